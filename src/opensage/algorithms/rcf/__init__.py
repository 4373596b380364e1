"""SageMaker's built-in Random Cut Forest (``randomcutforest:1``): anomaly scores from robust random cut trees.

What matches SageMaker (reference §7):

- Hyperparameters ``feature_dim`` (1-10000, required), ``num_trees`` (50-1000, 100),
  ``num_samples_per_tree`` (1-2048, 256), ``eval_metrics`` (a list from accuracy,
  precision_recall_fscore; both by default); ``mini_batch_size``, which the SageMaker SDK sends,
  is accepted and only sizes reads.
- Channels ``train`` (required; ``text/csv;label_size=0`` or RecordIO-protobuf, dense or
  sparse) and ``test`` (labelled: CSV label first, RecordIO ``label["values"]``; 1 = anomaly);
  File or Pipe mode; ShardedByS3Key hosts each sample their shard and the master merges the
  samples exactly, so more hosts give a sample of the whole channel.
- Training: reservoir sampling without replacement, one reservoir of ``num_samples_per_tree``
  rows per tree over one pass; each tree cuts its sample's bounding boxes recursively, the
  dimension chosen in proportion to its extent, the position uniform.
- Scores: for a row inserted by a random cut, the expected inverse depth at which it is cut
  off (averaged over trees) times log2(num_samples_per_tree), so ordinary rows score about 1
  and isolated rows several times that, up to log2(num_samples_per_tree); low is normal. The
  expected collusive displacement (CoDisp) comes from the same walk (``forest.score_rows``).
- Test metrics by the three-sigma rule: ``test:f1`` (the tuning metric), ``test:precision``,
  ``test:recall``, ``test:accuracy``, printed as ``#quality_metric: host=algo-1, test f1 <score>=...``.
- Inference: csv, json (dense or sparse), jsonlines, recordio in; ``{"scores": [{"score": ...}]}``,
  JSON Lines ``{"score": ...}``, RecordIO ``label["score"]``.
- ``shingle.shingle(series, size)`` turns a time series into overlapping windows to train on.

What differs: the model is ``rcf-model.npz`` (the forest's node arrays), not an MXNet file;
the random seed is fixed (SageMaker documents none), so the same data gives the same model.
"""

from opensage.algorithms.rcf.algorithm import RandomCutForestAlgorithm
from opensage.algorithms.rcf.shingle import shingle

__all__ = ["RandomCutForestAlgorithm", "shingle"]
