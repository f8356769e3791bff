"""nncourse.plotting: each function draws what it says and returns the right object."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from nncourse import plotting  # noqa: E402
from nncourse.plotting import (  # noqa: E402
    MAX_FRAMES,
    animate_descent,
    plot_decision_regions,
    plot_history,
    plot_loss_surface,
)
from nncourse.training import History  # noqa: E402


def bowl(x: np.ndarray) -> float:
    return float(x[0] ** 2 + 2 * x[1] ** 2)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot.close("all")


@pytest.fixture
def history() -> History:
    return History(loss=[2.0, 1.5, 1.0, 0.8, 0.6, 0.5], epoch=[1, 2, 3],
                   train_acc=[0.6, 0.8, 0.9], test_acc=[0.55, 0.75, 0.85])


def test_plot_history_accuracy(history):
    ax = plot_history(history)
    assert isinstance(ax, Axes)
    train_line, test_line = ax.get_lines()
    np.testing.assert_array_equal(train_line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train_line.get_ydata(), history.train_acc)
    np.testing.assert_array_equal(test_line.get_ydata(), history.test_acc)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train", "test"]


def test_plot_history_names_a_validation_curve(history):
    ax = plot_history(history, test_label="validation")
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train", "validation"]


def test_plot_history_loss_on_given_axes(history):
    _, given = pyplot.subplots()
    ax = plot_history(history, ax=given, metric="loss")
    assert ax is given
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0.5, 1, 1.5, 2, 2.5, 3])  # 2 batches/epoch
    np.testing.assert_array_equal(line.get_ydata(), history.loss)


def test_plot_history_without_test_set():
    ax = plot_history(History(loss=[1.0], epoch=[1], train_acc=[0.5]))
    assert len(ax.get_lines()) == 1


def test_plot_history_rejects_bad_input(history):
    with pytest.raises(ValueError, match="metric"):
        plot_history(history, metric="accuracies")
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(History())


def test_plot_loss_surface_evaluates_f_on_the_grid():
    points = []

    def recording_bowl(x: np.ndarray) -> float:
        points.append(tuple(x))
        return bowl(x)

    ax = plot_loss_surface(recording_bowl, (-2, 2), (-1, 3), resolution=5, levels=[0.5, 2, 8])
    assert isinstance(ax, Axes)
    grid = {(x0, x1) for x0 in np.linspace(-2, 2, 5) for x1 in np.linspace(-1, 3, 5)}
    assert len(points) == 25 and set(points) == grid
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 3)
    (contours,) = [child for child in ax.get_children() if hasattr(child, "levels")]
    np.testing.assert_array_equal(contours.levels, [0.5, 2, 8])


def test_plot_loss_surface_draws_the_path():
    path = np.array([[1.5, 2.0], [0.9, 0.8], [0.5, 0.3], [0.2, 0.1]])
    ax = plot_loss_surface(bowl, (-2, 2), (-1, 3), path=path, resolution=10)
    route, start, end = ax.get_lines()
    np.testing.assert_array_equal(route.get_xydata(), path)
    np.testing.assert_array_equal(start.get_xydata(), path[:1])
    np.testing.assert_array_equal(end.get_xydata(), path[-1:])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"xlim": (1, 1)}, "xlim"),
        ({"ylim": (3, -1)}, "ylim"),
        ({"path": np.zeros((4, 3))}, "path must have shape"),
        ({"resolution": 1}, "resolution"),
    ],
)
def test_plot_loss_surface_rejects_bad_input(kwargs, message):
    arguments = {"f": bowl, "xlim": (-2, 2), "ylim": (-1, 3)} | kwargs
    with pytest.raises(ValueError, match=message):
        plot_loss_surface(**arguments)


def test_animate_descent_grows_the_path():
    path = np.array([[1.5, 2.0], [0.9, 0.8], [0.5, 0.3]])
    anim = animate_descent(bowl, path, (-2, 2), (-1, 3), interval=50)
    assert isinstance(anim, FuncAnimation)
    html = anim.to_jshtml()
    assert html.count("data:image/png;base64") == 3  # one frame per point of a short path
    line = anim._fig.axes[0].get_lines()[-1]
    np.testing.assert_array_equal(line.get_xydata(), path)  # the last frame shows all of it


def test_animate_descent_caps_the_frames(monkeypatch):
    assert MAX_FRAMES <= 60  # keeps the book's embedded HTML small
    monkeypatch.setattr(plotting, "MAX_FRAMES", 4)
    path = np.column_stack([np.linspace(1.5, 0, 500), np.linspace(2, 0, 500)])
    anim = animate_descent(bowl, path, (-2, 2), (-1, 3))
    assert list(anim.new_frame_seq()) == [0, 166, 333, 499]  # evenly spaced, last included
    assert anim.to_jshtml().count("data:image/png;base64") == 4


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([0, 1, 1, 0])


def test_plot_decision_regions_colours_the_grid_by_the_probability():
    calls = []

    def above_the_diagonal(points: np.ndarray) -> np.ndarray:
        calls.append(points.copy())
        return (points[:, 0] + points[:, 1] > 1).astype(float)

    ax = plot_decision_regions(above_the_diagonal, XOR_X, XOR_T, (-0.5, 1.5), (-1, 2),
                               resolution=7)
    assert isinstance(ax, Axes)
    (points,) = calls  # one call with every grid point
    xs, ys = np.linspace(-0.5, 1.5, 7), np.linspace(-1, 2, 7)
    assert points.shape == (49, 2)
    assert {tuple(p) for p in points} == {(x0, x1) for x0 in xs for x1 in ys}
    (image,) = ax.get_images()
    # Row i is the i-th y value, column j the j-th x value (origin at the lower left).
    expected = np.array([[float(x0 + x1 > 1) for x0 in xs] for x1 in ys])
    np.testing.assert_array_equal(image.get_array(), expected)
    assert image.get_extent() == [-0.5, 1.5, -1, 2] and image.origin == "lower"
    assert image.get_clim() == (0, 1)
    assert ax.get_xlim() == (-0.5, 1.5) and ax.get_ylim() == (-1, 2)


def test_plot_decision_regions_marks_each_class():
    _, given = pyplot.subplots()
    ax = plot_decision_regions(lambda p: np.full(len(p), 0.5), XOR_X, XOR_T, (-1, 2), (-1, 2),
                               ax=given, resolution=3)
    assert ax is given
    class0, class1 = ax.collections
    np.testing.assert_array_equal(class0.get_offsets(), XOR_X[XOR_T == 0])
    np.testing.assert_array_equal(class1.get_offsets(), XOR_X[XOR_T == 1])
    assert [text.get_text() for text in ax.legend().get_texts()] == ["class 0", "class 1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros((4, 3))}, "x must have shape"),
        ({"t": np.array([0, 1, 2, 0])}, "t must hold"),
        ({"t": np.array([0, 1])}, "t must hold"),
        ({"predict_proba": lambda p: np.zeros((len(p), 2))}, "must return shape"),
        ({"predict_proba": lambda p: np.full(len(p), 1.5)}, r"in \[0, 1\]"),
        ({"xlim": (2, -1)}, "xlim"),
        ({"resolution": 1}, "resolution"),
    ],
)
def test_plot_decision_regions_rejects_bad_input(kwargs, message):
    arguments = {"predict_proba": lambda p: np.full(len(p), 0.5), "x": XOR_X, "t": XOR_T,
                 "xlim": (-1, 2), "ylim": (-1, 2)} | kwargs
    with pytest.raises(ValueError, match=message):
        plot_decision_regions(**arguments)
