"""Wrong and cheating answers to ch05_numpy_to_pytorch."""

from exercise_cases import answer

ANSWERS = [
    # Averages instead of summing: PyTorch's default reduction, not the one asked for. The L1
    # loss's checks, visible and hidden, earn their shares (2 of 5).
    answer("mse_mean", (), partial={"test_sum_losses": 0.8}, sum_losses='''
        def l1_loss_sum(prediction, target):
            return torch.sum(torch.abs(prediction - target))


        def mse_loss_sum(prediction, target):
            return torch.mean((prediction - target) ** 2)
        '''),
    # Drops the 2 of the derivative of the square: the losses and the gradient's shape earn
    # their shares (3 of 6).
    answer("gradient_without_two", (), partial={"test_polynomial_loss_and_grad": 1.5},
           polynomial_loss_and_grad='''
        def polynomial_loss_and_grad(coef, x, y):
            powers = x[:, None] ** np.arange(len(coef))
            error = powers @ coef - y
            return float(np.sum(error**2)), powers.T @ error
        '''),
    # Never resets the gradients: the second step uses the sum of both. The first step is right
    # and earns its share (1 of 4).
    answer("no_zero_grad", (), partial={"test_autograd_step": 0.75}, autograd_step='''
        def autograd_step(params, x, y, lr):
            prediction = sum(p * x**k for k, p in enumerate(params))
            loss = torch.sum((prediction - y) ** 2)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
            return loss.item()
        '''),
    # Feeds float64 features to the float32 layer: RuntimeError in the forward pass.
    answer("float64_features", ("test_train_cubic",), train_cubic='''
        def train_cubic(x, y, lr, steps, seed=0):
            x64, y64 = torch.from_numpy(x), torch.from_numpy(y)
            features = torch.stack([x64, x64**2, x64**3], dim=1)
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
            loss_fn = nn.MSELoss(reduction="sum")
            optimizer = torch.optim.RMSprop(model.parameters(), lr=lr)
            losses = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = loss_fn(model(features), y64)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return model, losses
        '''),
    # PyTorch's loss modules and optimizer where the tasks ask for hand-written code.
    answer("calls_reference", ("test_sum_losses", "test_autograd_step"), sum_losses='''
        def l1_loss_sum(prediction, target):
            return nn.L1Loss(reduction="sum")(prediction, target)


        def mse_loss_sum(prediction, target):
            return torch.nn.functional.mse_loss(prediction, target, reduction="sum")
        ''', autograd_step='''
        def autograd_step(params, x, y, lr):
            optimizer = torch.optim.SGD(params, lr=lr)
            optimizer.zero_grad()
            loss = torch.sum((sum(p * x**k for k, p in enumerate(params)) - y) ** 2)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss.item()
        '''),
    # Believes .grad holds only the last backward()'s gradient: every check of task 6 fails.
    answer("grad_overwritten", ("test_predict_grads",), predict_grads='''
        def predict_grads(w0, b0, x, y, lr):
            error = w0 * x + b0 - y
            w1, b1 = w0 - lr * np.sum(2 * error * x), b0 - lr * np.sum(2 * error)
            error = w1 * x + b1 - y
            return float(np.sum(2 * error * x)), float(np.sum(2 * error))
        '''),
    # Forgets the factor x of dL/dw in the second gradient: b.grad's checks still pass.
    answer("second_w_grad_without_x", (), partial={"test_predict_grads": 1.0}, predict_grads='''
        def predict_grads(w0, b0, x, y, lr):
            error = w0 * x + b0 - y
            w_grad, b_grad = np.sum(2 * error * x), np.sum(2 * error)
            w1, b1 = w0 - lr * w_grad, b0 - lr * b_grad
            error = w1 * x + b1 - y
            return float(w_grad + np.sum(2 * error)), float(b_grad + np.sum(2 * error))
        '''),
]
