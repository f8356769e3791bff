"""Wrong and cheating answers to ch01_gradient_descent."""

from exercise_cases import answer

ANSWERS = [
    # The seed program's mistake: the gradient halved although the loss already has its ½.
    answer("halved_gradient", ("test_plane_gradient_step", "test_train_until"),
           plane_gradient_step='''
        def plane_gradient_step(X, y, w1, w2, b, lr):
            errors = plane_predict(X, w1, w2, b) - y
            grad_w1 = 0.5 * np.mean(errors * X[:, 0])
            grad_w2 = 0.5 * np.mean(errors * X[:, 1])
            grad_b = 0.5 * np.mean(errors)
            return w1 - lr * grad_w1, w2 - lr * grad_w2, b - lr * grad_b
        '''),
    # Off by one: counts loss evaluations instead of gradient steps.
    answer("counts_evaluations", ("test_train_until",), train_until='''
        def train_until(X, y, w1, w2, b, lr, threshold, max_steps=10_000):
            steps = 0
            while steps < max_steps:
                steps += 1
                if plane_loss(X, y, w1, w2, b) < threshold:
                    break
                w1, w2, b = plane_gradient_step(X, y, w1, w2, b, lr)
            return w1, w2, b, steps
        '''),
    # Right numbers, but from the worked example in nncourse instead of the student's code.
    answer("calls_reference", ("test_sgd_line",), sgd_line='''
        from nncourse.worked_examples import line_fit_steps

        def sgd_line(x, y, w, b, lr):
            return [(s["w_new"], s["b_new"]) for s in line_fit_steps(w, b, lr, list(zip(x, y)))]
        '''),
]
