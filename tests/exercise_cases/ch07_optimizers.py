"""Wrong and cheating answers to ch07_optimizers."""

from exercise_cases import answer

ANSWERS = [
    # Adam without the bias correction: its first steps are about 3 times too long, and its
    # counts in the race are wrong (its two checks of four pairs fail).
    answer("adam_without_bias_correction", ("test_adam",), partial={"test_race": 2.25},
           adam='''
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
    # Creates the buffers afresh at every call: plain SGD with the momentum forgotten. Only the
    # first step is right (1 of 6 shares), and the race's momentum counts are wrong.
    answer("momentum_buffer_forgotten", (), partial={"test_momentum": 0.5, "test_race": 2.25},
           momentum='''
        class Momentum:
            def __init__(self, lr=1e-2, momentum=0.9):
                self.lr, self.momentum = lr, momentum

            def update(self, params, grads):
                buffers = {key: np.zeros_like(value) for key, value in params.items()}
                for key in params:
                    buffers[key] = self.momentum * buffers[key] + grads[key]
                    params[key] -= self.lr * buffers[key]
        '''),
    # RMSprop right, but with alpha=0.9 as its default: the steps with the given settings earn
    # their shares (2 of 4); the defaults' checks fail, and so does the race, which uses them.
    answer("rmsprop_default_alpha_0_9", (), partial={"test_rmsprop": 1.0, "test_race": 2.25},
           rmsprop='''
        class RMSprop:
            def __init__(self, lr=1e-2, alpha=0.9, eps=1e-8):
                self.lr, self.alpha, self.eps = lr, alpha, eps
                self.averages = {}

            def update(self, params, grads):
                for key in params:
                    r = self.averages.get(key, np.zeros_like(params[key]))
                    self.averages[key] = self.alpha * r + (1 - self.alpha) * grads[key] ** 2
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.averages[key]) + self.eps)
        '''),
    # Inherits everything from the course's optimizers; the race runs them, so it is refused too.
    answer("calls_reference", ("test_momentum", "test_rmsprop", "test_race"), momentum='''
        from nncourse import optim


        class Momentum(optim.Momentum):
            pass
        ''', rmsprop='''
        from nncourse.optim import RMSprop as CourseRMSprop


        class RMSprop(CourseRMSprop):
            def update(self, params, grads):
                super().update(params, grads)
        '''),
    # Takes the largest step that does not diverge at once, lr = 2 / max(a): the steep
    # direction then flips sign for ever and SGD never arrives; the other optimizers' checks pass.
    answer("race_sgd_lr_too_large", (), partial={"test_race": 2.25}, race='''
        def race(curvatures, tol=1e-6, max_steps=2000):
            a = np.asarray(curvatures, dtype=float)
            optimizers = {"SGD": None, "Momentum": Momentum(lr=1 / a.max(), momentum=0.9),
                          "RMSprop": RMSprop(lr=0.01), "Adam": Adam(lr=0.1)}
            counts = {}
            for name, optimizer in optimizers.items():
                params = {"w": np.ones_like(a)}
                counts[name] = -1
                for step in range(1, max_steps + 1):
                    grads = {"w": a * params["w"]}
                    if optimizer is None:
                        params["w"] = params["w"] - 2 / a.max() * grads["w"]
                    else:
                        optimizer.update(params, grads)
                    if 0.5 * np.sum(a * params["w"] ** 2) < tol:
                        counts[name] = step
                        break
            return counts
        '''),
]
