"""SageMaker's built-in k-NN (``knn:1``): a uniform sample of the training rows in a faiss index.

What matches SageMaker (reference §5):

- Hyperparameters ``feature_dim``, ``k``, ``predictor_type`` classifier|regressor, ``sample_size``
  (required); ``dimension_reduction_type`` sign|fjlt with ``dimension_reduction_target``
  (required with it, below feature_dim); ``index_type`` faiss.Flat|faiss.IVFFlat|faiss.IVFPQ;
  ``index_metric`` L2|INNER_PRODUCT|COSINE (IVFPQ: L2 only); ``faiss_index_ivf_nlists``
  (auto = √sample_size); ``faiss_index_pq_m`` (the documented values; a dimension it does not
  divide is raised to the next multiple, by zero-padding or a larger reduction target);
  ``mini_batch_size`` (5000); ``_tuning_objective_metric`` test:accuracy or test:mse.
- Channels ``train`` (required) and ``test``, ``text/csv`` (label first) or
  ``application/x-recordio-protobuf`` (``label["values"]``), dense or sparse, File or Pipe mode.
- Training reservoir-samples ``sample_size`` rows in one pass; hosts of a multi-instance job each
  sample their shard and the master merges the samples, weighted by each host's row count, into
  one uniform sample of all rows. COSINE normalises the vectors and searches by inner product.
- The model is ``model_algo-1`` (the faiss index, serialized), ``model_algo-1.labels`` (float32)
  and ``model_algo-1.json``, whose ``k`` and ``predictor_type`` can be edited to change inference.
- The test channel prints ``#test_score (algo-1) : ('accuracy', 0.98)`` or ``('mse', ...)``.
- Inference: csv, json, jsonlines, recordio in; ``{"predictions": [{"predicted_label": 0.0}]}``,
  JSON Lines, RecordIO ``label["predicted_label"]``; with ``; verbose=true`` in Accept also
  ``distances`` and ``labels`` of the k neighbours, nearest first.

What differs or is not documented by SageMaker: the sampling and projection seeds are fixed
(the same data gives the same model); IVF indexes search √nlist lists per query (``nprobe`` in
the JSON, editable), and rows whose probed lists hold fewer than k points are searched in every
list; an unset ``faiss_index_pq_m`` picks the largest documented value leaving at least 4
dimensions per sub-quantizer; product quantizers use 8-bit codes, fewer when the sample has
under 256 points; ``distances`` are faiss's (squared L2; inner product or cosine similarity,
largest first); a classification tie goes to the nearest tied label; one label column only.
"""

from opensage.algorithms.knn.algorithm import KNNAlgorithm

__all__ = ["KNNAlgorithm"]
