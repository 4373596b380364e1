"""SageMaker's built-in Linear Learner (``linear-learner:1``): many linear models trained in parallel, one selected.

What matches SageMaker (reference §2):

- Every documented hyperparameter with its default and range (``predictor_type`` required,
  ``num_classes`` required for multiclass; ``auto`` where documented; the SDK's extra
  selection criteria ``f1`` and ``cross_entropy_loss``); a loss that does not fit the
  predictor type is refused by name. ``_tuning_objective_metric`` forces ``num_models`` to 1.
- Channels ``train`` (required), ``validation`` and ``test``; ``text/csv`` (label first) or
  ``application/x-recordio-protobuf`` (dense or sparse), File or Pipe mode; one streaming pass
  over the train channel per epoch.
- ``num_models`` models (auto: 32) train side by side as one float32 matrix (one product forward
  and one backward per mini-batch for all of them): learning rates, L2 weight
  decays and (for ``positive_example_weight_mult=auto``) positive weights 1/balanced vary where
  left ``auto``; sgd (momentum), adam (beta_1, beta_2) or rmsprop; l1, wd, bias_lr_mult,
  bias_wd_mult, use_bias, init_*, the step learning-rate schedule; the ten losses.
- Feature normalisation from the first ``num_point_for_scaler`` rows (shifted only for dense
  data by default), label normalisation for regression; positive weights (a number or
  ``balanced``), ``balance_multiclass_weights``.
- Early stopping on the validation loss (the training loss without validation): each model
  keeps its best epoch and leaves the matrix when it stops improving, and the run ends when
  the best of them does; selection of one model on validation (or the scaler sample) by
  ``binary_classifier_model_selection_criteria`` with its threshold, by loss otherwise.
- Metric lines: per-epoch and final ``validation <loss>_objective``, and the documented test
  and validation metrics of the selected model, which tuning jobs read.
- Multi-instance (ShardedByS3Key): each host trains on its shard from the same start and one
  scaler (the hosts' samples merged); after every epoch the master averages the hosts' models
  and optimizer state (weighted by rows) and every host goes on from the average; the master
  selects.
- Inference: csv, json, jsonlines, recordio in; ``{"predictions": [{"score": .., "predicted_label": ..}]}``
  (binary: probability for logistic loss; multiclass: class probabilities; regressor: score only).

What differs: the model is ``linear-learner-model.npz`` (NumPy: weights, bias, threshold,
predictor_type, loss), not an MXNet file; the grid that ``auto`` settings span, and the
``auto`` values (adam at 0.01, bias_lr_mult 10, bias_wd_mult 0, l1 0, lr decay 0.9 per epoch
down to 1e-5, 100,000 calibration rows) are opensage's choices, as SageMaker does not publish its own;
early stopping watches the loss, not the selection criterion; hosts average their models once an
epoch (an epoch on N hosts takes 1/N of the optimizer steps it takes on one, as in data-parallel
training, so on data too small to converge in ``epochs`` passes N hosts lag one).
"""

from opensage.algorithms.linear_learner.algorithm import LinearLearnerAlgorithm

__all__ = ["LinearLearnerAlgorithm"]
