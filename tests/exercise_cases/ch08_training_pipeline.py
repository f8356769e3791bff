"""Wrong and cheating answers to ch08_training_pipeline."""

from exercise_cases import answer

ANSWERS = [
    # Keeps the labels' own dtype: int64 for MNIST, but the int32 and uint8 labels stay so.
    answer("labels_keep_their_dtype", ("test_dataset",), dataset='''
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
    # Never clears the gradients: every step adds up all the batches so far. The training run
    # built on it stalls at about 50% test accuracy.
    answer("no_zero_grad", ("test_train_epoch", "test_train_mnist"), train_epoch='''
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
    # Trains a model that an evaluation left in eval mode: dropout stays off. The CNN of task 4
    # has no dropout and is fresh, so only the epoch's own test catches it.
    answer("no_train_mode", ("test_train_epoch",), train_epoch='''
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
    # Evaluates with dropout still active (no model.eval()).
    answer("no_eval_mode", ("test_evaluate",), evaluate='''
        def evaluate(model, loader, device):
            correct, total = 0, 0
            with torch.no_grad():
                for inputs, labels in loader:
                    outputs = model(inputs.to(device))
                    correct += (outputs.argmax(dim=1) == labels.to(device)).sum().item()
                    total += len(labels)
            return correct / total
        '''),
    # Averages the batches' accuracies: wrong when the last batch is shorter.
    answer("mean_of_batch_accuracies", ("test_evaluate",), evaluate='''
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
    # Fixes three of the classmate's four bugs but not the evaluation mode: the parameters and
    # the mean earn their shares (2 of 5); the mode and the hidden comparison fail.
    answer("debug_keeps_eval_mode", (), partial={"test_fixed_train_epoch": 0.8},
           fixed_train_epoch='''
        def fixed_train_epoch(model, loader, optimizer, loss_fn, device):
            total = 0.0
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                optimizer.step()
                total += loss.item()
            return total / len(loader)
        '''),
]
