"""Open a loaded model into the one form the engine reads: one image input (B, H, W, C), one output of
class scores (B, K) made by a Dense layer, every layer at the top level.

The model's graph is replayed on a new symbolic input with the SAME layer objects, so the opened model
shares every weight with the loaded one and computes the same numbers: a nested model's layers are
called where the nested model was (and named by their path), the chosen output is the only output,
a single sigmoid or logit unit becomes two classes, an input without a channel axis gets one. Each
change is said in a short sentence for the model card.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from ..errors import UserError

# Keras 3 refuses "/" in a layer name twice over: in the constructor, and again every time the layer is
# called (Layer.__call__ enters backend.name_scope(layer.name), which raises), so a renamed layer would
# fail at its first use. "." passes TensorFlow's scope-name rule and reads as a path; registry.layer_slug
# makes it a safe folder name.
SEPARATOR = "."


def load(path: Path, model_cfg, root: Path) -> tuple:
    """(opened keras.Model, notes) of the model file at `path`: its custom objects imported first."""
    from . import persist

    if getattr(model_cfg, "custom_objects_module", None):
        import_custom_objects(model_cfg.custom_objects_module, root)
    # persist.load_model_file looked up at call time: tests replace it to poison a model
    model = persist.load_model_file(Path(path))
    try:
        return open_model(model, model_cfg, source=str(path))
    except UserError:
        raise
    except Exception as err:  # a graph Keras cannot replay: said at `make check`, not minutes later
        reason = " ".join(str(err).split())[:160] or err.__class__.__name__
        raise UserError(f"{path}: the model cannot be opened for the gallery ({reason})") from None


def import_custom_objects(spec: str, root: Path) -> None:
    """Import the module that registers a model's custom layers (keras.saving.register_keras_serializable
    runs at import): a .py file relative to the project folder, or an importable module name."""
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec).expanduser()
        path = path if path.is_absolute() else Path(root) / path
        if not path.is_file():
            raise UserError(f"model.custom_objects_module: no file {path}")
        # run at every load, like the registration it makes: a registry emptied between loads is refilled
        name = f"_custom_objects_{path.stem}"
        found = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module  # its classes' __module__ must resolve (dataclasses, pickling)
        run = lambda: found.loader.exec_module(module)  # noqa: E731
    else:
        if str(root) not in sys.path:  # a module beside the config, as the project's own files are
            sys.path.insert(0, str(root))
        name, run = spec, lambda: importlib.import_module(spec)
    try:
        run()
    except Exception as err:  # the user's code: any error is theirs, said in one line
        if name != spec:
            sys.modules.pop(name, None)  # a file that failed is tried again next time, not half-imported
        if isinstance(err, ModuleNotFoundError) and err.name and spec.startswith(err.name):
            raise UserError(f"model.custom_objects_module: no module named {spec!r}") from None
        reason = " ".join(str(err).split())[:160] or err.__class__.__name__
        raise UserError(f"model.custom_objects_module {spec!r} failed to import ({err.__class__.__name__}: "
                        f"{reason})") from None


def open_model(model, model_cfg=None, source: str = "the model") -> tuple:
    """(keras.Model the engine handles, notes for the model card). The model itself when it needs no
    change; else a new keras.Model over the same layer objects (see the module's docstring)."""
    import keras

    _graph_of(model, source, top=True)
    wanted = getattr(model_cfg, "output", None)
    outputs = keras.tree.flatten(model.outputs)
    names = [_producer(t).name for t in outputs]
    if wanted is not None and wanted not in names:
        raise UserError(f"{source}: model.output {wanted!r} is not an output of the model (outputs: "
                        f"{_listed(names, outputs)})")
    nested = [lay for lay in model.layers if isinstance(lay, keras.Model)]
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else ()
    channelless = len(shape) == 3 and None not in shape[1:]
    one_unit = len(outputs) == 1 and _one_unit(outputs[0])
    if len(model.inputs) != 1 or not (nested or channelless or one_unit or len(outputs) > 1):
        return model, []  # nothing to open, or several inputs (check_model says so)

    notes: list[str] = []
    source_input = model.inputs[0]
    inp = keras.Input(shape[1:] + (1,) if channelless else shape[1:], dtype=source_input.dtype,
                      name=_producer(source_input).name)
    fed = inp
    if channelless:
        fed = keras.layers.Reshape(shape[1:], name=f"{inp.name}_without_channel")(inp)
        notes.append(f"The model takes {shape[1]}×{shape[2]} images without a channel axis; the gallery gives it "
                     f"{shape[1]}×{shape[2]}×1 images and a Reshape drops the channel before its first layer.")
    opened_models: list[str] = []
    replayed = keras.tree.flatten(_replay(model, fed, "", opened_models, source))
    for path in dict.fromkeys(opened_models):  # a nested model called twice is opened once
        notes.append(f"The nested model {path!r} is opened layer by layer; its layers are named by their path "
                     f"({path}{SEPARATOR}<layer>).")
    index = names.index(wanted) if wanted is not None else _default_output(replayed, names, outputs, source)
    if len(outputs) > 1:
        notes.append(f"The model has {len(outputs)} outputs ({_listed(names, outputs)}); the gallery shows "
                     f"{names[index]!r}{'' if wanted else ' (set model.output to choose another)'}.")
    out = replayed[index]
    if _one_unit(out):
        out, note = _two_classes(out, source)
        notes.append(note)
    opened = keras.Model(inp, out, name=model.name)
    _own_nodes(opened)
    return opened, notes


def _graph_of(model, source: str, top: bool = False):
    """The Functional graph of a model (a Sequential's is built inside it), or a one-line refusal."""
    import keras

    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise UserError(f"{source}: the Sequential model {model.name!r} was never built (it has no input "
                            f"shape); give it a keras.Input first")
        return graph
    if not hasattr(model, "_run_through_graph"):
        what = "the model" if top else f"the nested model {model.name!r}"
        raise UserError(f"{source}: {what} is a subclassed keras.Model (its layers are joined by Python code, "
                        f"not a graph the gallery can read); save it as a functional or Sequential model")
    return model


def _replay(model, inputs, prefix: str, opened: list, source: str):
    """The model's outputs computed from `inputs` by calling its own layers, a nested model's layers in
    its place (their names prefixed by the nested model's path)."""
    import keras

    def operation(op):
        if isinstance(op, keras.Model):
            path = f"{prefix}{op.name}"
            opened.append(path)
            # A nested model's call arguments (training=False, the transfer-learning idiom) are dropped:
            # the gallery only ever runs the model for inference.
            return lambda x, *args, **kwargs: _replay(op, x, path + SEPARATOR, opened, source)
        if prefix and not op.name.startswith(prefix):  # opened once already: the same objects, same names
            op.name = prefix + op.name
        return op

    return _graph_of(model, source)._run_through_graph(inputs, operation_fn=operation)


def _own_nodes(opened) -> None:
    """Make each layer's node in the opened graph its only node. A layer called in two graphs (the
    loaded model's and the opened one) answers `layer.output` with its first call's tensor, from the
    loaded graph, and a sub-model built from it is "disconnected" (tf-keras-vis #63, #84); every tap
    reads `layer.output`. The loaded model still runs (its graph holds its nodes itself), but its
    layers now belong to the opened model."""
    from keras.src.ops.node import KerasHistory

    mine = {id(node) for nodes in opened._nodes_by_depth.values() for node in nodes}
    for op in opened.operations:
        op._inbound_nodes = [node for node in op._inbound_nodes if id(node) in mine]
        op._outbound_nodes = [node for node in op._outbound_nodes if id(node) in mine]
        for n, node in enumerate(op._inbound_nodes):
            for t, tensor in enumerate(node.outputs):
                tensor._keras_history = KerasHistory(op, n, t)


def _producer(tensor):
    return tensor._keras_history.operation


def _one_unit(tensor) -> bool:
    return len(tensor.shape) == 2 and tensor.shape[-1] == 1


def _activation(layer) -> str | None:
    return getattr(getattr(layer, "activation", None), "__name__", None)


def _listed(names: list[str], outputs: list) -> str:
    return ", ".join(f"{n} {tuple(t.shape)}" for n, t in zip(names, outputs))


def _default_output(replayed: list, names: list[str], outputs: list, source: str) -> int:
    """The first output of class scores: (B, K) with K >= 2, or one sigmoid or logit unit."""
    for i, t in enumerate(replayed):
        if len(t.shape) == 2 and (t.shape[-1] >= 2 or _activation(_producer(t)) in ("sigmoid", "linear")):
            return i
    raise UserError(f"{source}: no output of the model is class scores (batch, classes) (outputs: "
                    f"{_listed(names, outputs)}); set model.output to one of them")


def _two_classes(out, source: str) -> tuple:
    """One sigmoid (or logit) unit z as two classes: a new Dense(2) with kernel [0 | w], bias [0 | b]
    gives the class logits [0, z], whose softmax is [1 − σ(z), σ(z)]: the model's own p as class 1."""
    import keras

    dense = _producer(out)
    activation = _activation(dense)
    below = dense._inbound_nodes[out._keras_history.node_index].input_tensors
    if isinstance(dense, keras.layers.Activation) and activation == "sigmoid" and _activation(_producer(below[0])) == "linear":
        out, dense = below[0], _producer(below[0])  # Dense(1) then Activation("sigmoid"): the same unit
    if not isinstance(dense, keras.layers.Dense) or activation not in ("sigmoid", "linear"):
        raise UserError(f"{source}: the output {dense.name!r} is one unit of a {dense.__class__.__name__} "
                        f"with activation {activation}; one unit is read as a sigmoid probability or a logit "
                        f"of a Dense layer")
    node = dense._inbound_nodes[out._keras_history.node_index]
    two = keras.layers.Dense(2, activation="softmax" if activation == "sigmoid" else None, name=dense.name,
                             dtype=dense.dtype_policy)
    scores = two(node.input_tensors[0])
    kernel, bias = (dense.get_weights() + [np.zeros(1, np.float32)])[:2]  # no bias: 0
    two.set_weights([np.concatenate([np.zeros_like(kernel), kernel], axis=1),
                     np.concatenate([np.zeros_like(bias), bias])])
    if activation == "sigmoid":
        return scores, (f"The single sigmoid output {dense.name!r} is shown as two classes: 1 − p and p "
                        f"(class 1 is the model's p; a Dense(2) softmax over the logits 0 and z gives both).")
    return scores, (f"The single logit output {dense.name!r} (z) is shown as two classes with the logits 0 "
                    f"and z, whose softmax is 1 − σ(z) and σ(z).")
