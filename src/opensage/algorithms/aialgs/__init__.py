"""What the "aialgs" family of built-in algorithms shares (Linear Learner, K-Means, k-NN, PCA, RCF, FM).

SageMaker builds these algorithms on one framework, so they read the same channels, print the
same metric lines and answer the same request and response formats. An algorithm of the family
is a subclass of ``algorithm.AialgsAlgorithm`` that declares its hyperparameter spec, channels,
metrics and response fields, and implements ``fit`` (training) and ``load_model`` (hosting):

- ``algorithm``: the base class and ``ChannelRule`` (which channels, which are required).
- ``channels``: a channel as a stream of ``Batch`` (features dense or CSR, labels) in File or
  Pipe mode, from ``text/csv`` (``label_size``) or ``application/x-recordio-protobuf``.
- ``metrics``: ``MetricLog`` prints ``#quality_metric`` / ``#progress_metric`` /
  ``#throughput_metric`` lines; ``quality_metric_definitions`` gives the regexes that read them.
- ``serving``: ``AialgsPredictor`` decodes csv / json / jsonlines / recordio requests and encodes
  json / jsonlines / recordio (and, where documented, csv) responses around a ``Model``.
- ``cluster``: merging the hosts' states on the master host (InstanceCount > 1): ``gather`` once
  at the end, or ``exchange`` (the merged state sent back to every host) as often as training needs.

Only ``algorithm`` and ``metrics`` may be imported by the control plane: the others load numpy.
"""
