"""nncourse: the reference implementations behind *Neural networks from scratch*.

Every formula the book teaches lives here once, tested against an independent oracle.
Chapters import it; the exercise graders compare students' code with it.

Modules, from the bottom up (each imports only numpy and the ones above it):

- :mod:`nncourse.functions`  activations and softmax
- :mod:`nncourse.losses`     loss functions and their gradients
- :mod:`nncourse.gradients`  numerical differentiation, gradient descent, gradient checks
- :mod:`nncourse.layers`     layers with ``forward``/``backward``, ``Dropout`` included
- :mod:`nncourse.initialization`  Xavier and He weight scales, the spread of a deep ReLU
  network's pre-activations
- :mod:`nncourse.networks`   ``TwoLayerNet``
- :mod:`nncourse.optim`      optimizers with ``update(params, grads)`` and ``weight_decay``;
  learning-rate schedules (``StepLR``, ``CosineAnnealingLR``)
- :mod:`nncourse.datasets`   MNIST / Fashion-MNIST and the chapters' synthetic data
- :mod:`nncourse.training`   a mini-batch training loop with history
- :mod:`nncourse.plotting`   the book's standard figures
- :mod:`nncourse.display`    animations as offline HTML
- :mod:`nncourse.worked_examples`  the source posts' worked examples, every number
- :mod:`nncourse.torch_pipeline`   chapter 8's PyTorch Dataset, CNN and loop (needs torch)
- :mod:`nncourse.grading`    what the exercises' test cells call (light: runs in kernels)
- :mod:`nncourse.autograde`  the grading engine: release, self-check, grade, report
"""

__version__ = "0.1.0"
