"""Looking inside a model: its block diagram and its receptive field.

- ``layer_shapes(model, input_dim)``: every layer in the order of the forward pass, with its output shape and its
  number of parameters (any ``nn.Module``: hooks on its leaf modules record what passes);
- ``plot_block_diagram(model, input_dim)``: that list drawn as a chain of boxes;
- ``receptive_field(model, input_dim)``: how many input frames (and bins) one output value depends on, measured by
  back-propagating from one output to the input (no formula per layer type: it works for any model).

Taught in notebooks/04_model_from_yaml.ipynb.
"""

import torch


def layer_shapes(model, input_dim):
    """[(layer name, type, output shape, number of parameters), ...] of a forward pass of zeros of ``input_dim``
    (batch axis included), in eval mode, for any ``nn.Module`` (its leaf modules, in the order they run)."""
    row_l, handle_l = [], []
    for name, module in model.named_modules():
        if not list(module.children()):
            handle_l.append(module.register_forward_hook(
                lambda module, inputs, output, name=name: row_l.append(
                    (name, type(module).__name__, tuple(output.shape) if torch.is_tensor(output) else "?",
                     sum(parameter.numel() for parameter in module.parameters())))))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(input_dim, device=next(model.parameters()).device))
    finally:
        for handle in handle_l:
            handle.remove()
        model.train(was_training)
    return row_l


def plot_block_diagram(model, input_dim, ax=None, title=None):
    """Draw a model as a chain of boxes, one per layer (its type, then its output shape), from the input (left) to
    the output (right). Returns the matplotlib axis."""
    import matplotlib.pyplot as plt

    row_l = [("input", "input", tuple(input_dim), 0)] + layer_shapes(model, input_dim)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8, 1.15 * len(row_l)), 2.4))
    for index, (_, type_name, shape, _) in enumerate(row_l):
        color = "#dbe9f6" if type_name in ("Conv1d", "Conv2d", "Linear") else "#f2f2f2"
        ax.add_patch(plt.Rectangle((index * 1.2, 0), 1.0, 1.0, facecolor=color, edgecolor="black"))
        ax.text(index * 1.2 + 0.5, 0.62, type_name, ha="center", va="center", fontsize=7, rotation=0, wrap=True)
        ax.text(index * 1.2 + 0.5, 0.3, "x".join(str(size) for size in shape[1:]), ha="center", va="center",
                fontsize=6.5)
        if index:
            ax.annotate("", xy=(index * 1.2, 0.5), xytext=(index * 1.2 - 0.2, 0.5), arrowprops={"arrowstyle": "->"})
    ax.set(xlim=(-0.1, len(row_l) * 1.2), ylim=(-0.2, 1.2), title=title or "block diagram (output shape without the "
           "batch axis under each layer; blue: layers with weights)")
    ax.axis("off")
    return ax


def _local_part(model):
    """The forward pass of a NetModel up to its first layer whose output has no time axis any more (a pooling over
    the whole patch: auto-pool, a global maximum, a flatten): its outputs still belong to one place in time."""
    from course_utils import model_factory

    def forward(X):
        store_d = {}
        for path, _, module in model._layer_l:
            Y = model_factory._apply_layer(module, X, store_d, path)
            if Y.dim() <= 2 or (Y.shape[-1] == 1 < X.shape[-1]):
                break
            X = Y
        return X

    return forward


def receptive_field(model, input_dim, n_probe=4):
    """How much of the input one output value depends on: ``{'frames': int, 'bins': int or None}``.

    For a model built by ``NetModel``, measured on its layers up to the first that pools over the whole patch (the
    layers before it keep a time axis); for any other module, on its output. The gradient of one output value in
    the middle of the time axis (and of the frequency axis) is propagated back to an input ``n_probe`` times longer
    than ``input_dim`` (so that its edges are not reached); the extent of the input cells with a non-zero gradient,
    over ``n_probe`` random inputs, is the receptive field.
    """
    forward = _local_part(model) if hasattr(model, "_layer_l") else model
    long_dim = [1, *input_dim[1:-1], input_dim[-1] * n_probe]
    was_training = model.training
    model.eval()
    touched = torch.zeros(long_dim[1:], dtype=torch.bool)
    try:
        for seed in range(n_probe):
            X = torch.randn(long_dim, generator=torch.Generator().manual_seed(seed)).requires_grad_(True)
            Y = forward(X)
            index = tuple([0] + [size // 2 for size in Y.shape[1:]])
            Y[index].backward()
            touched |= X.grad[0] != 0
    finally:
        model.train(was_training)
    time_v = touched.flatten(0, -2).any(dim=0) if touched.dim() > 1 else touched
    bins = None
    if touched.dim() >= 2 and len(input_dim) == 4:
        bins = int(_extent(touched.any(dim=0).any(dim=-1)))
    return {"frames": int(_extent(time_v)), "bins": bins}


def _extent(mask_v):
    """Number of cells from the first True to the last True of a 1-D mask (0 when none)."""
    index_v = torch.nonzero(mask_v).flatten()
    return 0 if index_v.numel() == 0 else int(index_v[-1] - index_v[0] + 1)


def count_parameters(model):
    """Trainable parameters of a model (int)."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
