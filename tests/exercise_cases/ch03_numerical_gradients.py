"""Wrong and cheating answers to ch03_numerical_gradients."""

from exercise_cases import answer

ANSWERS = [
    # The forward difference: error of order h instead of h². The error curve of task 5 is
    # built on it, so that task loses every check too.
    answer("forward_difference", ("test_numerical_diff", "test_best_step"), numerical_diff='''
        def numerical_diff(f, x, h=1e-4):
            return (f(x + h) - f(x)) / h
        '''),
    # Ignores its argument h: the checks that pass another step (visible and hidden) fail. The
    # error curve of task 5 is then flat, so that task loses every check too.
    answer("diff_ignores_h", ("test_best_step",), partial={"test_numerical_diff": 1.0},
           numerical_diff='''
        def numerical_diff(f, x, h=1e-4):
            return (f(x + 1e-4) - f(x - 1e-4)) / 2e-4
        '''),
    # Loops over the first axis only: right for vectors, wrong for arrays of more axes. The
    # tasks built on it inherit that: gradient descent from a (2, 2) start, and the gradient of
    # the (2, 3) weight matrix.
    answer("gradient_first_axis_only", ("test_weight_gradient",),
           partial={"test_numerical_gradient": 2.0, "test_gradient_descent": 1.5},
           numerical_gradient='''
        def numerical_gradient(f, x, h=1e-4):
            gradient = np.zeros(x.shape)
            for i in range(len(x)):
                original = x[i].copy()
                x[i] = original + h
                f_plus = f(x)
                x[i] = original - h
                f_minus = f(x)
                x[i] = original
                gradient[i] = (f_plus - f_minus) / (2 * h)
            return gradient
        '''),
    # The path misses the starting point: one row short. Only the last point is right.
    answer("path_without_start", (), partial={"test_gradient_descent": 0.75},
           gradient_descent='''
        def gradient_descent(f, init_x, lr=0.01, step_num=100):
            x = np.array(init_x, dtype=float)
            path = []
            for _ in range(step_num):
                x = x - lr * numerical_gradient(f, x)
                path.append(x.copy())
            return x, np.array(path)
        '''),
    # Believes the smallest step is the most accurate: the error curve earns its two checks,
    # the best step none.
    answer("smallest_step_is_best", (), partial={"test_best_step": 1.2}, best_step='''
        def sin_errors(x, hs):
            return np.array([abs(numerical_diff(np.sin, x, h) - np.cos(x)) for h in hs])


        def best_step(x):
            return 1e-15
        '''),
    # Hides the course's numerical_gradient behind a helper: every task built on it loses too.
    answer("calls_reference", ("test_numerical_gradient", "test_gradient_descent",
                               "test_weight_gradient"), numerical_gradient='''
        from nncourse import gradients

        def _difference(f, x, h):
            return gradients.numerical_gradient(f, x, h)

        def numerical_gradient(f, x, h=1e-4):
            return _difference(f, x, h)
        '''),
]
