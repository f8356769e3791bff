"""Wrong and cheating answers to ch06_mnist_two_layer."""

from exercise_cases import answer

ANSWERS = [
    # The log of an unshifted softmax: right for small logits, nan for large ones; predict and
    # the losses of moderate logits earn their shares (6 of 8).
    answer("log_of_unshifted_softmax", (), partial={"test_forward": 1.5}, forward='''
        def predict(params, x):
            hidden = sigmoid(x @ params["W1"] + params["b1"])
            return hidden @ params["W2"] + params["b2"]


        def loss(params, x, t):
            exponentials = np.exp(predict(params, x))
            probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
            labels = t.argmax(axis=1) if t.ndim == 2 else t
            return float(-np.mean(np.log(probabilities[np.arange(len(labels)), labels])))
        '''),
    # Compares the predicted classes with one-hot rows as if they were labels: the checks with
    # labels earn their shares (2 of 4).
    answer("accuracy_ignores_one_hot", (), partial={"test_accuracy": 0.5}, accuracy='''
        def accuracy(params, x, t):
            return float(np.mean(predict(params, x).argmax(axis=1) == t))
        '''),
    # Forgets the sigmoid's derivative on the way back: the shapes and the output layer's
    # gradients (with labels, one-hot, hidden) earn their shares (4 of 8). Training inherits the
    # mistake but still passes 85%: the batch count and the accuracy earn theirs (2 of 4).
    # gradient_with_decay builds on it: every check fails.
    answer("missing_sigmoid_derivative", ("test_gradient_with_decay",),
           partial={"test_gradient": 2.0, "test_train_sgd": 1.5}, gradient='''
        def gradient(params, x, t):
            hidden = sigmoid(x @ params["W1"] + params["b1"])
            d_logits = softmax_loss_backward(hidden @ params["W2"] + params["b2"], t)
            d_hidden = d_logits @ params["W2"].T
            return {"W1": x.T @ d_hidden, "b1": d_hidden.sum(axis=0),
                    "W2": hidden.T @ d_logits, "b2": d_logits.sum(axis=0)}
        '''),
    # Drops the last, shorter mini-batch of every epoch: the accuracy earns its share (1 of 4).
    answer("drops_last_batch", (), partial={"test_train_sgd": 0.75}, train_sgd='''
        def train_sgd(params, x, t, lr, batch_size, epochs, seed):
            trained = {key: value.copy() for key, value in params.items()}
            rng = np.random.default_rng(seed)
            losses = []
            for _ in range(epochs):
                order = rng.permutation(len(x))
                for start in range(0, len(x) - batch_size + 1, batch_size):
                    batch = order[start : start + batch_size]
                    losses.append(loss(trained, x[batch], t[batch]))
                    grads = gradient(trained, x[batch], t[batch])
                    for key in trained:
                        trained[key] -= lr * grads[key]
            return trained, losses
        '''),
    # Exponentiates the logits without subtracting the row's maximum: nan for logits of ±1000;
    # the small batches earn their shares (2 of 4), and the tasks built on it stay right.
    answer("softmax_backward_unshifted", (), partial={"test_softmax_loss_backward": 1.0},
           softmax_loss_backward='''
        def softmax_loss_backward(logits, t):
            exponentials = np.exp(logits)
            probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
            one_hot = t if t.ndim == 2 else np.eye(logits.shape[1])[t]
            return (probabilities - one_hot) / len(logits)
        '''),
    # The course's TwoLayerNet computes the gradient; training through it loses too.
    # (gradient_with_decay calls it, so the copied-code check refuses that task too.)
    answer("calls_reference", ("test_gradient", "test_train_sgd", "test_gradient_with_decay"),
           gradient='''
        from nncourse.networks import TwoLayerNet

        def gradient(params, x, t):
            net = TwoLayerNet(*params["W1"].shape, params["W2"].shape[1])
            net.params = {key: value.copy() for key, value in params.items()}
            return net.gradient(x, t)
        '''),
    # Penalises the biases too: the weights' checks earn 2 of 4 shares.
    answer("decays_the_biases", (), partial={"test_gradient_with_decay": 1.0},
           gradient_with_decay='''
        def gradient_with_decay(params, x, t, weight_decay):
            grads = gradient(params, x, t)
            return {key: grads[key] + weight_decay * params[key] for key in grads}
        '''),
    # Drops the 1/2 of the penalty when differentiating: 2 * lambda * W; the biases' checks
    # earn 2 of 4 shares.
    answer("decay_without_the_half", (), partial={"test_gradient_with_decay": 1.0},
           gradient_with_decay='''
        def gradient_with_decay(params, x, t, weight_decay):
            grads = gradient(params, x, t)
            for key in ("W1", "W2"):
                grads[key] = grads[key] + 2 * weight_decay * params[key]
            return grads
        '''),
]
