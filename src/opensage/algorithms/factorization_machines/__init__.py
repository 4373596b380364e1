"""SageMaker's built-in Factorization Machines (``factorization-machines:1``): sparse second-order models.

What matches SageMaker (reference §8):

- Hyperparameters ``feature_dim``, ``num_factors``, ``predictor_type`` (binary_classifier |
  regressor; required), ``epochs`` (1), ``mini_batch_size`` (1000), and for each of the
  ``bias`` / ``linear`` / ``factors`` terms ``*_init_method`` (normal | uniform | constant),
  ``*_init_sigma`` (0.01 / 0.01 / 0.001), ``*_init_scale``, ``*_init_value``, ``*_lr``
  (0.1 / 0.001 / 0.0001), ``*_wd`` (0.01 / 0.001 / 0.00001); ``clip_gradient``, ``eps``,
  ``rescale_grad``; ``_tuning_objective_metric`` must be a metric of the predictor type.
- Channels ``train`` (required) and ``test``, ``application/x-recordio-protobuf`` only (sparse
  or dense; no ContentType means RecordIO, as the SDK's ``record_set`` sends none); CSV is
  refused with a message saying so. File or Pipe mode.
- Metrics: ``test:rmse`` (regressor); ``test:binary_classification_accuracy``,
  ``test:binary_classification_cross_entropy``, ``test:binary_f_beta`` (F1 at 0.5) for a
  classifier; per-epoch ``train`` lines, ``train:progress``, ``train:throughput``.
- Inference: JSON (dense or sparse instances), JSON Lines and RecordIO in (no CSV);
  ``{"predictions": [{"score": s}]}`` for a regressor, ``{"score": p, "predicted_label": 0|1}``
  (label 1 when p ≥ 0.5) for a classifier; JSON Lines and RecordIO (``label["score"]``,
  ``label["predicted_label"]``) alike.

What differs or SageMaker leaves unsaid: the optimizer is Adam (β1 0.9, β2 0.999, ``eps``
default 1e-8) with lazy updates of the rows a batch touches, as MXNet does for sparse
gradients; SageMaker documents an epsilon but not its optimizer. ``*_init_scale`` /
``*_init_value`` must be given when their method is uniform / constant (SageMaker documents no
default). Initial weights come from a fixed seed, so reruns give byte-identical models. Several
instances each train on their share and average their weights and Adam moments by rows
after every epoch (through the master; said in the log), where SageMaker synchronises every
batch; a model over 64 MiB (weights and moments) is averaged once, at the end. Tensors of any
type are read (SageMaker takes Float32 only). The model is ``factorization-machines-model.npz``
(``bias``, ``linear``, ``factors``, ``predictor_type``), not an MXNet file.
"""

from opensage.algorithms.factorization_machines.algorithm import FactorizationMachinesAlgorithm

__all__ = ["FactorizationMachinesAlgorithm"]
