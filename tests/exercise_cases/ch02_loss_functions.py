"""Wrong and cheating answers to ch02_loss_functions."""

from exercise_cases import answer

ANSWERS = [
    # Passes the visible tests; overflows on the hidden large logits.
    answer("softmax_without_shift", ("test_softmax",), softmax='''
        def softmax(x):
            exponentials = np.exp(x)
            return exponentials / np.sum(exponentials, axis=-1, keepdims=True)
        '''),
    # Sums the batch instead of averaging it.
    answer("cross_entropy_sum", ("test_cross_entropy_error",), cross_entropy_error='''
        def cross_entropy_error(y, t, delta=1e-7):
            y, t = np.asarray(y, dtype=float), np.asarray(t)
            if t.shape != y.shape:
                t = np.eye(y.shape[-1])[t]
            return float(-np.sum(t * np.log(y + delta)))
        '''),
    # Divides by the length of the first axis: right for vectors only (hidden tests).
    answer("gradient_wrong_count", ("test_mean_squared_error_grad",), mean_squared_error_grad='''
        def mean_squared_error_grad(y, t):
            return 2.0 * (y - t) / len(y)
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
