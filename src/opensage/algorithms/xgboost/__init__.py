"""SageMaker's built-in XGBoost algorithm (container 1.7-1), trained with the installed xgboost 3.

What matches SageMaker:

- Hyperparameters: the documented table with its ranges, defaults and aliases (``eta`` /
  ``learning_rate``, ...); ``num_round`` required; ``num_class`` required for ``multi:softmax``
  and ``multi:softprob``; ``eval_metric`` as a comma list with ``error@t``, ``ndcg@n``, ``map@n``;
  ``_tuning_objective_metric`` added to the evaluated metrics and watched by early stopping
  (else the last ``eval_metric``); ``csv_weights``; ``seed``; ``save_model_on_termination``.
  Metrics the container computes itself (accuracy, f1, f1_binary, f1_macro, balanced_accuracy,
  precision/recall and their macro/micro forms, mse, r2) are computed here too, as
  scikit-learn defines them, summed over hosts in distributed training.
- Channels ``train`` (required) and ``validation``; content types ``text/csv``,
  ``text/libsvm`` (the default) / ``text/x-libsvm``, ``application/x-parquet`` and
  ``application/x-recordio-protobuf``, with every file of a channel read; CSV without header,
  label first, delimiter detected, empty cells missing, weights in column 2 with csv_weights=1.
- Per-round lines ``[i]\\ttrain-<m>:<v>\\tvalidation-<m>:<v>`` on stdout, scraped with SageMaker's
  regexes (``metric_definitions``); the model as ``xgboost-model`` in XGBoost's own format.
- Several hosts train one model with XGBoost's collective, each on its own shard; only the
  master writes the model and prints metrics.

What differs:

- Training uses xgboost 3, not 1.7: parameters that XGBoost removed (``predictor``,
  ``sketch_eps``, ``lambda_bias``, ``dsplit``, ...) are accepted and ignored with a log line;
  ``reg:linear`` trains as ``reg:squarederror``; ``gpu_hist`` trains with ``hist`` (no GPU);
  unset parameters take xgboost 3's defaults (``base_score`` is estimated from the labels).
  The model is saved as UBJSON, which ``xgboost.Booster(model_file=...)`` loads; with early
  stopping it keeps every tree and records ``best_iteration``, as SageMaker's does.
- Labels an objective cannot take, missing labels, bad weights and malformed files fail the
  job with a message naming the file and row, before XGBoost sees them.
- ``_kfold`` (cross-validation) is rejected as not supported yet; checkpoints are not written.
- ``survival:aft`` reads the single label as an uncensored time (lower = upper bound).
- In distributed training ``tree_method=exact`` trains with ``hist`` (XGBoost cannot
  distribute it), and a host without data joins with an empty shard rather than leaving.

Hosting (``load_predictor``, ``serving``) answers ``/invocations`` as the 1.7-1 container:

- Model files: ``xgboost-model`` (UBJSON, JSON, legacy binary or a pickled Booster) and the
  ``xgboost-model-<fold>`` files of k-fold, ensembled (mean, or a vote for multi:softmax and
  binary:hinge) unless SAGEMAKER_INFERENCE_ENSEMBLE=false; early-stopped models predict with
  their best iteration.
- Requests: ``text/csv`` (the default), ``text/libsvm``, ``text/x-libsvm``,
  ``application/x-recordio-protobuf``; responses: ``text/csv`` (the default, or
  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT), ``application/json``, ``application/jsonlines``,
  ``application/x-recordio-protobuf``; 415 and 406 otherwise, 400 for bad data or a row
  width other than the model's. SAGEMAKER_INFERENCE_OUTPUT selects per-objective keys.

Where hosting differs: ``application/json`` and ``application/jsonlines`` requests are read
too (SageMaker's documented instance shapes); an unknown SAGEMAKER_INFERENCE_OUTPUT key or
default Accept fails the model's load instead of answering NaN or failing each request;
multi:softmax's raw scores are its class margins; raw predictions in CSV follow the savetxt
layout (one value per line) rather than the container's single comma-joined line; a pickled
model may hold nothing but a Booster; an empty body gets an empty 200 answer (the container
answers 204).
"""

from opensage.algorithms.xgboost.algorithm import XGBoostAlgorithm

__all__ = ["XGBoostAlgorithm"]
