"""Wrong and cheating answers to ch03_numerical_gradients."""

from exercise_cases import answer

ANSWERS = [
    # The forward difference: error of order h instead of h². The error curve of task 5 is
    # built on it, so that task loses every check too.
    answer("forward_difference", ("test_numerical_diff", "test_best_step"), numerical_diff='''
        def numerical_diff(f, x, h=1e-4):
            return (f(x + h) - f(x)) / h
        '''),
    # The path misses the starting point: one row short.
    answer("path_without_start", ("test_gradient_descent",), gradient_descent='''
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
