"""Wrong and cheating answers to ch01_gradient_descent."""

from exercise_cases import answer

ANSWERS = [
    # The seed program's mistake: the gradient halved although the loss already has its ½.
    # train_until inherits it; only its check that takes no step at all still passes.
    answer("halved_gradient", ("test_plane_gradient_step",), partial={"test_train_until": 0.4},
           plane_gradient_step='''
        def plane_gradient_step(X, y, w1, w2, b, lr):
            errors = plane_predict(X, w1, w2, b) - y
            grad_w1 = 0.5 * np.mean(errors * X[:, 0])
            grad_w2 = 0.5 * np.mean(errors * X[:, 1])
            grad_b = 0.5 * np.mean(errors)
            return w1 - lr * grad_w1, w2 - lr * grad_w2, b - lr * grad_b
        '''),
    # Sums the errors instead of averaging them: right for a single point only. On block 1 the
    # sum makes the step 36 times too long and train_until diverges; only its check that takes
    # no step at all still passes.
    answer("sums_instead_of_mean", (),
           partial={"test_plane_gradient_step": 1.0, "test_train_until": 0.4},
           plane_gradient_step='''
        def plane_gradient_step(X, y, w1, w2, b, lr):
            errors = plane_predict(X, w1, w2, b) - y
            return (w1 - lr * np.sum(errors * X[:, 0]), w2 - lr * np.sum(errors * X[:, 1]),
                    b - lr * np.sum(errors))
        '''),
    # Off by one: counts loss evaluations instead of gradient steps. Only the cap of max_steps
    # comes out right.
    answer("counts_evaluations", (), partial={"test_train_until": 0.4}, train_until='''
        def train_until(X, y, w1, w2, b, lr, threshold, max_steps=10_000):
            steps = 0
            while steps < max_steps:
                steps += 1
                if plane_loss(X, y, w1, w2, b) < threshold:
                    break
                w1, w2, b = plane_gradient_step(X, y, w1, w2, b, lr)
            return w1, w2, b, steps
        '''),
    # The right limit, but predicts divergence above half of it (confusing 2/λmax with 1/λmax):
    # the two checks of lr_limit earn their shares, the predictions do not.
    answer("diverges_at_half_the_limit", (), partial={"test_lr_limit": 1.2}, lr_limit='''
        def lr_limit(X):
            A = np.column_stack([X, np.ones(len(X))])
            return float(2.0 / np.linalg.eigvalsh(A.T @ A / len(X)).max())


        def diverges(X, lrs):
            return [lr > lr_limit(X) / 2 for lr in lrs]
        '''),
    # Forgets the bias in the Hessian (Xᵀ·X / N only): the limit is wrong everywhere, and only
    # block 1's list of predictions happens to come out right.
    answer("hessian_without_bias", (), partial={"test_lr_limit": 0.6}, lr_limit='''
        def lr_limit(X):
            return float(2.0 / np.linalg.eigvalsh(X.T @ X / len(X)).max())


        def diverges(X, lrs):
            return [lr > lr_limit(X) for lr in lrs]
        '''),
    # Right numbers, but from the worked example in nncourse instead of the student's code.
    answer("calls_reference", ("test_sgd_line",), sgd_line='''
        from nncourse.worked_examples import line_fit_steps

        def sgd_line(x, y, w, b, lr):
            return [(s["w_new"], s["b_new"]) for s in line_fit_steps(w, b, lr, list(zip(x, y)))]
        '''),
]
