"""Wrong and cheating answers to ch02_loss_functions."""

from exercise_cases import answer

ANSWERS = [
    # Right for ordinary scores, overflows on large ones: every check but those of large
    # scores (visible and hidden) earns its share.
    answer("softmax_without_shift", (), partial={"test_softmax": 1.5}, softmax='''
        def softmax(x):
            exponentials = np.exp(x)
            return exponentials / np.sum(exponentials, axis=-1, keepdims=True)
        '''),
    # Sums the batch instead of averaging it: right for one sample only (one-hot, label, delta).
    answer("cross_entropy_sum", (), partial={"test_cross_entropy_error": 1.5},
           cross_entropy_error='''
        def cross_entropy_error(y, t, delta=1e-7):
            y, t = np.asarray(y, dtype=float), np.asarray(t)
            if t.shape != y.shape:
                t = np.eye(y.shape[-1])[t]
            return float(-np.sum(t * np.log(y + delta)))
        '''),
    # Divides by the length of the first axis: right for vectors only.
    answer("gradient_wrong_count", (), partial={"test_mean_squared_error_grad": 0.5},
           mean_squared_error_grad='''
        def mean_squared_error_grad(y, t):
            return 2.0 * (y - t) / len(y)
        '''),
    # Derives softmax - t but forgets that L is a mean over the batch: the shape and the single
    # sample earn their shares, every batch of two or more samples fails.
    answer("grad_without_batch_mean", (), partial={"test_softmax_cross_entropy_grad": 1.0},
           softmax_cross_entropy_grad='''
        def softmax_cross_entropy_grad(z, t):
            shifted = z - np.max(z, axis=1, keepdims=True)
            return np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True) - t
        '''),
    # Averages over every element, as if the loss were a mean over N·C terms: only the shape.
    answer("grad_divides_by_size", (), partial={"test_softmax_cross_entropy_grad": 0.5},
           softmax_cross_entropy_grad='''
        def softmax_cross_entropy_grad(z, t):
            shifted = z - np.max(z, axis=1, keepdims=True)
            probabilities = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
            return (probabilities - t) / z.size
        '''),
    # The right formula with an unshifted np.exp: nan for large scores, visible and hidden.
    answer("grad_unstable_exp", (), partial={"test_softmax_cross_entropy_grad": 1.5},
           softmax_cross_entropy_grad='''
        def softmax_cross_entropy_grad(z, t):
            probabilities = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
            return (probabilities - t) / len(z)
        '''),
    # Calls the course's softmax and PyTorch's L1 loss.
    answer("calls_reference", ("test_softmax", "test_mean_absolute_error"), softmax='''
        import nncourse.functions

        def softmax(x):
            return nncourse.functions.softmax(x)
        ''', mean_absolute_error='''
        import torch

        def mean_absolute_error(y, t):
            return torch.nn.functional.l1_loss(torch.tensor(y), torch.tensor(t)).item()
        '''),
]
