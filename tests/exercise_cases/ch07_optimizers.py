"""Wrong and cheating answers to ch07_optimizers."""

from exercise_cases import answer

ANSWERS = [
    # Adam without the bias correction: its first steps are about 3 times too long.
    answer("adam_without_bias_correction", ("test_adam",), adam='''
        class Adam:
            def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
                self.m, self.v = {}, {}

            def update(self, params, grads):
                for key in params:
                    if key not in self.m:
                        self.m[key] = np.zeros_like(params[key])
                        self.v[key] = np.zeros_like(params[key])
                    self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                    self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                    params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + self.eps)
        '''),
    # Creates the buffers afresh at every call: plain SGD with the momentum forgotten.
    answer("momentum_buffer_forgotten", ("test_momentum",), momentum='''
        class Momentum:
            def __init__(self, lr=1e-2, momentum=0.9):
                self.lr, self.momentum = lr, momentum

            def update(self, params, grads):
                buffers = {key: np.zeros_like(value) for key, value in params.items()}
                for key in params:
                    buffers[key] = self.momentum * buffers[key] + grads[key]
                    params[key] -= self.lr * buffers[key]
        '''),
    # Inherits everything from the course's optimizers.
    answer("calls_reference", ("test_momentum", "test_rmsprop"), momentum='''
        from nncourse import optim


        class Momentum(optim.Momentum):
            pass
        ''', rmsprop='''
        from nncourse.optim import RMSprop as CourseRMSprop


        class RMSprop(CourseRMSprop):
            def update(self, params, grads):
                super().update(params, grads)
        '''),
]
