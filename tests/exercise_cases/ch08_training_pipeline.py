"""Wrong and cheating answers to ch08_training_pipeline."""

from exercise_cases import answer

ANSWERS = [
    # Keeps the labels' own dtype: int64 for MNIST, but the int32 and uint8 labels stay so. The
    # length, the images, the ValueError and the DataLoader's batch earn their shares (3 of 6).
    answer("labels_keep_their_dtype", (), partial={"test_dataset": 1.0}, dataset='''
        class ArrayDataset(Dataset):
            def __init__(self, x, t):
                if len(x) != len(t):
                    raise ValueError("x and t must have the same length")
                self.x = torch.tensor(x, dtype=torch.float32)
                self.t = torch.from_numpy(t)

            def __len__(self):
                return len(self.x)

            def __getitem__(self, index):
                return self.x[index], self.t[index]
        '''),
    # Never clears the gradients: every step adds up all the batches so far; only the modes of
    # the forward passes earn their share (1 of 5). The training run built on it stalls at
    # about 50% test accuracy with losses that do not fall every epoch; its network and its
    # reproducibility (visible and hidden) still earn their shares (3 of 6).
    answer("no_zero_grad", (), partial={"test_train_epoch": 0.6, "test_train_mnist": 1.5},
           train_epoch='''
        def train_epoch(model, loader, optimizer, loss_fn, device):
            model.train()
            losses = []
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return sum(losses) / len(losses)
        '''),
    # Trains a model that an evaluation left in eval mode: dropout stays off. The visible linear
    # layer has no dropout, so its parameters and mean loss earn their shares (2 of 5); the CNN
    # of task 4 has no dropout and is fresh, so only the epoch's own test catches it.
    answer("no_train_mode", (), partial={"test_train_epoch": 1.2}, train_epoch='''
        def train_epoch(model, loader, optimizer, loss_fn, device):
            losses = []
            for inputs, targets in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(inputs.to(device)), targets.to(device))
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return sum(losses) / len(losses)
        '''),
    # Evaluates with dropout still active (no model.eval()): the modes and the hidden cases
    # fail; on the five tiny points dropout happens to leave 3 right, so the accuracy check
    # earns its share (1 of 4).
    answer("no_eval_mode", (), partial={"test_evaluate": 0.5}, evaluate='''
        def evaluate(model, loader, device):
            correct, total = 0, 0
            with torch.no_grad():
                for inputs, labels in loader:
                    outputs = model(inputs.to(device))
                    correct += (outputs.argmax(dim=1) == labels.to(device)).sum().item()
                    total += len(labels)
            return correct / total
        '''),
    # Averages the batches' accuracies: wrong when the last batch is shorter; only the modes
    # earn their share (1 of 4).
    answer("mean_of_batch_accuracies", (), partial={"test_evaluate": 0.5}, evaluate='''
        def evaluate(model, loader, device):
            model.eval()
            accuracies = []
            with torch.no_grad():
                for inputs, labels in loader:
                    predicted = model(inputs.to(device)).argmax(dim=1)
                    accuracies.append((predicted == labels.to(device)).float().mean().item())
            return sum(accuracies) / len(accuracies)
        '''),
    # Inherits the course's Dataset and hands the epoch to the course's loop; the training run
    # goes through that loop too.
    answer("calls_reference", ("test_dataset", "test_train_epoch", "test_train_mnist"),
           dataset='''
        from nncourse import torch_pipeline


        class ArrayDataset(torch_pipeline.ArrayDataset):
            pass
        ''', train_epoch='''
        from nncourse.torch_pipeline import train_epoch as course_train_epoch


        def train_epoch(model, loader, optimizer, loss_fn, device):
            losses = course_train_epoch(model, loader, optimizer, loss_fn, device)
            return sum(losses) / len(losses)
        '''),
    # The course's evaluation loop behind a helper of the student's own.
    answer("evaluate_calls_reference", ("test_evaluate",), evaluate='''
        import nncourse.torch_pipeline as pipeline


        def accuracy_of(model, loader, device):
            return pipeline.evaluate(model, loader, device)


        def evaluate(model, loader, device):
            return accuracy_of(model, loader, device)
        '''),
    # Hands in the classmate's code unchanged: every check fails.
    answer("leaves_the_bugs", ("test_fixed_accumulated_epoch",), fixed_accumulated_epoch='''
        def fixed_accumulated_epoch(model, loader, optimizer, loss_fn, device, accumulate):
            model.train()
            for index, (inputs, targets) in enumerate(loader):
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                if (index + 1) % accumulate == 0:
                    for p in model.parameters():
                        p.grad /= accumulate
                    optimizer.step()
        '''),
    # Pastes a plain training epoch and ignores accumulate: one step per batch fails every check.
    answer("pastes_train_epoch", ("test_fixed_accumulated_epoch",), fixed_accumulated_epoch='''
        def fixed_accumulated_epoch(model, loader, optimizer, loss_fn, device, accumulate):
            model.train()
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                optimizer.step()
        '''),
    # Fixes only the zero_grad: the check where the gradients must add up earns its share (1 of 5).
    answer("debug_fixes_only_zero_grad", (), partial={"test_fixed_accumulated_epoch": 0.4},
           fixed_accumulated_epoch='''
        def fixed_accumulated_epoch(model, loader, optimizer, loss_fn, device, accumulate):
            model.train()
            optimizer.zero_grad()
            for index, (inputs, targets) in enumerate(loader):
                inputs, targets = inputs.to(device), targets.to(device)
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                if (index + 1) % accumulate == 0:
                    for p in model.parameters():
                        p.grad /= accumulate
                    optimizer.step()
                    optimizer.zero_grad()
        '''),
    # The usual shortcut, divide by accumulate: right for full groups of equal batches only. The
    # added-up gradients and the last group's step earn their shares (2 of 5).
    answer("debug_divides_by_accumulate", (), partial={"test_fixed_accumulated_epoch": 0.8},
           fixed_accumulated_epoch='''
        def fixed_accumulated_epoch(model, loader, optimizer, loss_fn, device, accumulate):
            model.train()
            optimizer.zero_grad()
            for index, (inputs, targets) in enumerate(loader):
                inputs, targets = inputs.to(device), targets.to(device)
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                if (index + 1) % accumulate == 0 or index + 1 == len(loader):
                    for p in model.parameters():
                        p.grad /= accumulate
                    optimizer.step()
                    optimizer.zero_grad()
        '''),
]
