"""Wrong and cheating answers to ch04_backpropagation."""

from exercise_cases import answer

ANSWERS = [
    # The bias gradient summed over the wrong axis: dx and dW still earn their shares.
    answer("bias_wrong_axis", (), partial={"test_affine_backward": 1.0}, affine_backward='''
        def affine_backward(dout, x, W):
            return dout @ W.T, x.T @ dout, dout.sum(axis=1)
        '''),
    # Forgets the sigmoid's derivative o(1 - o); the training step inherits the mistake. Only
    # the shapes (backprop) and leaving the arguments alone (train_step) earn their shares.
    answer("missing_sigmoid_derivative", (), partial={"test_backprop": 0.6, "test_train_step": 0.4},
           backprop='''
        def backprop(x, t, W1, b1, W2, b2):
            h, o = forward(x, W1, b1, W2, b2)
            delta_out = o - t
            delta_hidden = (W2 @ delta_out) * h * (1 - h)
            return np.outer(x, delta_hidden), np.outer(h, delta_out)
        '''),
    # Updates the caller's arrays in place: the new weights are right, nothing else is.
    answer("updates_in_place", (), partial={"test_train_step": 0.8}, train_step='''
        def train_step(x, t, W1, b1, W2, b2, lr):
            dW1, dW2 = backprop(x, t, W1, b1, W2, b2)
            W1 -= lr * dW1
            W2 -= lr * dW2
            return W1, W2
        '''),
    # Copies the given buggy backward pass unchanged: it still runs on the chapter's square
    # network but gives the wrong dW1, fails for 3 hidden neurons and 2 outputs, and only the
    # check where the bug makes no difference (a symmetric W2) earns its share.
    answer("leaves_the_bug", (), partial={"test_fixed_backward": 0.6}, fixed_backward='''
        def fixed_backward(X, T, W1, b1, W2, b2):
            H = sigmoid(X @ W1 + b1)
            O = sigmoid(H @ W2 + b2)
            delta_out = (O - T) * O * (1 - O)
            delta_hidden = (delta_out @ W2) * H * (1 - H)
            return (X.T @ delta_hidden, delta_hidden.sum(axis=0),
                    H.T @ delta_out, delta_out.sum(axis=0))
        '''),
    # Runs the course's Affine layer instead of deriving the gradients.
    answer("calls_reference", ("test_affine_backward",), affine_backward='''
        from nncourse.layers import Affine

        def affine_backward(dout, x, W):
            layer = Affine(W, np.zeros(W.shape[1]))
            layer.forward(x)
            return layer.backward(dout), layer.dW, layer.db
        '''),
]
