"""SageMaker's built-in PCA (``pca:1``): principal components from one streaming pass, mergeable across hosts.

What matches SageMaker (reference §6):

- Hyperparameters ``feature_dim``, ``mini_batch_size``, ``num_components`` (required),
  ``algorithm_mode`` regular|randomized, ``extra_components`` (-1 = max(10, num_components),
  randomized mode only), ``subtract_mean`` (training and inference); ``num_components`` may not
  exceed ``feature_dim``.
- Channels ``train`` (required) and ``test``; ``text/csv`` (``label_size=0``; a label column is
  read as SageMaker does, first, and ignored) and ``application/x-recordio-protobuf`` (dense or
  sparse); File or Pipe mode.
- Regular mode keeps the exact sufficient statistics n, Σx and Σxᵀx (float64), so hosts of a
  ShardedByS3Key job each sum their shard and the master adds them: the same model as one host.
  Randomized mode keeps SageMaker's sketch B = ΣH_tX_t, h = ΣH_t1, s = Σx, n with random ±1
  matrices H_t, also summed across hosts, and takes the SVD of B - h sᵀ/n.
- Inference: csv, json, jsonlines, recordio in; ``{"projections": [{"projection": [...]}]}``,
  JSON Lines ``{"projection": [...]}``, RecordIO ``label["projection"]``.

What differs: the model is ``pca-model.npz`` (NumPy: ``mean``, ``components``, ``singular_values``,
``explained_variance``), not an MXNet NDArray file; components are ordered by decreasing
variance with signs fixed (largest entry positive), which SageMaker does not document; PCA
documents no tuning metrics, so the job prints only ``train:progress`` / ``train:throughput``,
and a ``test`` channel is checked (its width) but scores nothing.
"""

from opensage.algorithms.pca.algorithm import PCAAlgorithm

__all__ = ["PCAAlgorithm"]
