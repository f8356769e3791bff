"""Wrong and cheating answers to ch03_numerical_gradients."""

from exercise_cases import answer

ANSWERS = [
    # The forward difference: error of order h instead of h².
    answer("forward_difference", ("test_numerical_diff",), numerical_diff='''
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
