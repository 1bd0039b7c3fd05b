"""Every predict-first question of the app, declared once: the pages ask them, the class poll checks answers.

A question is a number in a range (the tally is a histogram) or one of fixed choices (bars). The wording a
page shows may carry the student's own settings; the poll groups answers by the question's id, so a class
answers the same question when everyone opens the same setup (e.g. the teacher's link).
"""
from dataclasses import dataclass

# The choices are written out rather than imported, so that light pages (softmax, the class poll) can use the
# registry without loading TensorFlow; tests/test_rooms.py checks them against the lessons' own constants.
FIT_LOSSES = ("MSE", "MAE", "Huber")
OPTIMIZERS = ("SGD", "SGD with momentum", "Nesterov momentum", "RMSprop", "Adam", "Adagrad")
KINDS = ("underfitting", "good fit", "overfitting")
PRESETS = ("underfit", "good fit", "overfit")
DROPOUT_ANSWERS = ("higher", "lower")
KERNELS = ("identity", "blur", "sharpen", "vertical edges (Sobel)", "horizontal edges (Sobel)",
           "Laplacian (all edges)")
NO_OPTIMIZER = "none of them, within these steps"
NUMBER_LIMIT = 1e6  # the widest range a number question accepts


@dataclass(frozen=True)
class Question:
    id: str
    page: str  # the page's file stem, as in its address
    prompt: str  # the question as the projector shows it
    kind: str  # "number" or "choice"
    low: float = -NUMBER_LIMIT
    high: float = NUMBER_LIMIT
    choices: tuple = ()


def _declare(*questions: Question) -> dict:
    registry = {}
    for question in questions:
        if question.id in registry:
            raise ValueError(f"Two questions share the id {question.id!r}.")
        if question.kind not in ("number", "choice"):
            raise ValueError(f"Question {question.id!r} has an unknown kind {question.kind!r}.")
        if question.kind == "number" and not question.low < question.high:
            raise ValueError(f"Question {question.id!r} needs low < high.")
        if question.kind == "choice" and (not question.choices or len(set(question.choices)) < len(question.choices)):
            raise ValueError(f"Question {question.id!r} needs distinct choices.")
        registry[question.id] = question
    return registry


QUESTIONS = _declare(
    Question("activations.value", "activations", "The activation's value (or slope) at the chosen x", "number"),
    Question("softmax.probability", "softmax", "The top class's probability", "number", low=0.0, high=1.0),
    Question("forward_pass.output", "forward_pass", "The network's output before training", "number"),
    Question("loss_functions.outliers", "loss_functions", "Which line moves most when one point jumps?", "choice",
             choices=FIT_LOSSES),
    Question("optimizers.race", "optimizers", "Which optimiser reaches the minimum first?", "choice",
             choices=(*OPTIMIZERS, NO_OPTIMIZER)),
    Question("overfitting.kind", "overfitting", "Will this run underfit, fit well or overfit?", "choice",
             choices=KINDS),
    Question("overfitting.compare", "overfitting", "Which preset ends with the largest validation − training gap?",
             "choice", choices=PRESETS),
    Question("dropout.training", "dropout", "With dropout, the training loss at the last epoch will be…", "choice",
             choices=DROPOUT_ANSWERS),
    Question("dropout.validation", "dropout", "With dropout, the validation loss at the last epoch will be…",
             "choice", choices=DROPOUT_ANSWERS),
    Question("classify.probability", "classify", "The top class's probability", "number", low=0.0, high=1.0),
    Question("convolution.kernel", "convolution", "Which kernel finds vertical edges?", "choice", choices=KERNELS),
    Question("convolution.accuracy", "convolution", "The CNN's validation accuracy (%) after training", "number",
             low=0.0, high=100.0),
    Question("validation.f1_trend", "validation", "As the threshold rises from 0.1 to 0.9, does the F1 score go…",
             "choice", choices=("up", "down", "up, then down")),
    Question("hyperparameter_search.winner", "hyperparameter_search",
             "With the same budget, will grid or random search find the better validation accuracy?", "choice",
             choices=("grid", "random", "a tie")),
    Question("transfer_learning.accuracy", "transfer_learning", "The head's validation accuracy (%)", "number",
             low=0.0, high=100.0),
)
