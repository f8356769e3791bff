"""Wrong and cheating answers to ch09_initialization_generalization."""

from exercise_cases import answer

ANSWERS = [
    # Forgets that a ReLU halves E[h²]: Xavier's σ = sqrt(1 / fan_in) for he_std, and the same
    # factor sqrt(fan_in)·σ for every layer. Only the one-layer check, where no ReLU comes
    # first, earns its share (1 of 8).
    answer("forgets_the_relu_half", (), partial={"test_initialization": 0.5},
           initialization='''
        def he_std(fan_in):
            return float(np.sqrt(1.0 / fan_in))


        def predicted_activation_std(layers, fan_in, weight_std, input_std=1.0):
            return float(input_std * (np.sqrt(fan_in) * weight_std) ** layers)
        '''),
    # Halves at the first layer too, as if the input were a ReLU output: "He keeps the std at
    # input_std". Only he_std's two checks pass (2 of 8).
    answer("halves_the_input_too", (), partial={"test_initialization": 1.0},
           initialization='''
        def he_std(fan_in):
            return float(np.sqrt(2.0 / fan_in))


        def predicted_activation_std(layers, fan_in, weight_std, input_std=1.0):
            variance = input_std**2
            for _ in range(layers):
                variance = fan_in * weight_std**2 * variance / 2
            return float(np.sqrt(variance))
        '''),
    # Off by one layer: the loop stops one layer early and returns the std of z_{L-1}. One
    # layer is still right, and so is He's σ, which keeps every layer behind the first alike
    # (4 of 8: he_std twice, one layer, He); every other depth is off by one layer's factor.
    answer("one_layer_short", (), partial={"test_initialization": 2.0}, initialization='''
        def he_std(fan_in):
            return float(np.sqrt(2.0 / fan_in))


        def predicted_activation_std(layers, fan_in, weight_std, input_std=1.0):
            variance = fan_in * weight_std**2 * input_std**2
            for _ in range(2, layers):
                variance = fan_in * weight_std**2 * variance / 2
            return float(np.sqrt(variance))
        '''),
    # Returns He's variance 2 / fan_in instead of the standard deviation; the predictions,
    # which take weight_std as given, are right (6 of 8).
    answer("he_std_is_the_variance", (), partial={"test_initialization": 3.0},
           initialization='''
        def he_std(fan_in):
            return 2.0 / fan_in


        def predicted_activation_std(layers, fan_in, weight_std, input_std=1.0):
            first = np.sqrt(fan_in) * weight_std
            return float(input_std * first * (first / np.sqrt(2)) ** (layers - 1))
        '''),
    # Drops entries but forgets to divide by 1 - p: the expected output shrinks by 1 - p. The
    # evaluation mode's checks earn their shares (2 of 8).
    answer("dropout_without_rescaling", (), partial={"test_dropout": 1.0}, dropout='''
        class Dropout:
            def __init__(self, p=0.5, seed=None):
                self.p = p
                self.rng = np.random.default_rng(seed)
                self.mask = None

            def forward(self, x, train=True):
                if not train:
                    self.mask = None
                    return x
                self.mask = (self.rng.random(x.shape) >= self.p).astype(float)
                return x * self.mask

            def backward(self, dout):
                return dout if self.mask is None else dout * self.mask
        '''),
    # Differentiates λ·w² instead of (λ/2)·w²: decays twice as fast, every check fails.
    answer("weight_decay_doubled", ("test_weight_decay",), weight_decay='''
        def sgd_weight_decay(params, grads, lr, weight_decay):
            return {key: params[key] - lr * (grads[key] + 2 * weight_decay * params[key])
                    for key in params}
        '''),
    # Counts epochs from 1: every decay comes one epoch early. At epochs 5 and 12 that makes no
    # difference (1 of 4 shares).
    answer("step_lr_one_epoch_early", (), partial={"test_step_lr": 0.5}, step_lr='''
        def step_lr(lr0, epoch, step_size, gamma):
            return lr0 * gamma ** ((epoch + 1) // step_size)
        '''),
    # PyTorch's curve without the clamp at t_max: the rate rises again after t_max. The start,
    # the middle and t_max itself earn their shares (2 of 4).
    answer("cosine_rises_after_t_max", (), partial={"test_cosine_lr": 1.0}, cosine_lr='''
        def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
            return eta_min + (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / t_max)) / 2
        '''),
    # Drives the course's schedulers instead of writing the formulas, and takes He's σ from
    # TwoLayerNet's initialiser and the prediction from nncourse.initialization.
    answer("calls_reference", ("test_initialization", "test_step_lr", "test_cosine_lr"),
           initialization='''
        from nncourse.initialization import relu_preactivation_std
        from nncourse.networks import _init_std


        def he_std(fan_in):
            return _init_std("he", fan_in)


        def predicted_activation_std(layers, fan_in, weight_std, input_std=1.0):
            return relu_preactivation_std(layers, fan_in, weight_std, input_std)
        ''', step_lr='''
        from nncourse.optim import SGD, StepLR


        def step_lr(lr0, epoch, step_size, gamma):
            optimizer = SGD(lr=lr0)
            scheduler = StepLR(optimizer, step_size=step_size, gamma=gamma)
            for _ in range(epoch):
                scheduler.step()
            return optimizer.lr
        ''', cosine_lr='''
        from nncourse import optim


        def cosine_lr(lr0, epoch, t_max, eta_min=0.0):
            optimizer = optim.SGD(lr=lr0)
            scheduler = optim.CosineAnnealingLR(optimizer, t_max=t_max, eta_min=eta_min)
            for _ in range(epoch):
                scheduler.step()
            return optimizer.lr
        '''),
]
