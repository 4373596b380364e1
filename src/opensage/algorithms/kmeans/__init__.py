"""SageMaker's built-in K-Means (``kmeans:1``): streaming mini-batch k-means, then a local Lloyd reduction.

What matches SageMaker (reference §4):

- Hyperparameters ``feature_dim`` and ``k`` (required), ``mini_batch_size`` (5000), ``epochs``
  (1), ``init_method`` random|kmeans++ (random), ``extra_center_factor`` (auto or int),
  ``local_lloyd_init_method`` (kmeans++), ``local_lloyd_max_iter`` (300), ``local_lloyd_tol``
  in [0, 1] (0.0001), ``local_lloyd_num_trials`` (auto or int), ``half_life_time_size`` (0 = no
  decay), ``eval_metrics`` (``["msd"]``; JSON or the SDK's bare list), the SDK's
  ``force_dense`` (accepted, no effect), ``_tuning_objective_metric``. The SDK's argument
  names (``center_factor``, ``max_iterations``, ``tol``, ``num_trials``, ``local_init_method``)
  are refused with the wire name they stand for.
- Training: Sculley's mini-batch k-means over K = k·extra_center_factor centres seeded from
  the first rows, one pass per epoch, then Lloyd's EM on the weighted centres down to k with
  restarts (``streaming``, ``lloyd``). Hosts of a ShardedByS3Key job stream their shards and
  send their centres and weights to the master, which reduces them all at once.
- Channels ``train`` (required) and ``test``: ``text/csv`` (``label_size=0``) or
  ``application/x-recordio-protobuf``, dense or sparse, File or Pipe mode. A test channel
  prints ``test msd`` / ``test ssd`` as ``eval_metrics`` asks (tuning metrics ``test:msd``,
  ``test:ssd``, minimised).
- The model is ``model_algo-1``, the (k, feature_dim) float32 centres in MXNet's NDArray
  format, so ``mx.nd.load("model_algo-1")[0]`` reads it as it reads SageMaker's.
- Inference: csv, json, jsonlines, recordio in; ``{"predictions": [{"closest_cluster": 1.0,
  "distance_to_cluster": 3.0}]}``, JSON Lines, CSV ``1.0,3.0`` and RecordIO
  ``label["closest_cluster"]``, ``label["distance_to_cluster"]`` (Euclidean, not squared).

What SageMaker leaves undocumented and opensage chooses: ``extra_center_factor=auto`` is 10,
``local_lloyd_num_trials=auto`` is 20; each epoch after the first restarts the centres'
weights (they keep their places), so the weights count one pass's rows; an empty cluster in
the Lloyd reduction restarts at the costliest point; a tuning objective missing from
``eval_metrics`` is printed too; random choices use a fixed seed, so a job is reproducible.
"""

from opensage.algorithms.kmeans.algorithm import KMeansAlgorithm

__all__ = ["KMeansAlgorithm"]
