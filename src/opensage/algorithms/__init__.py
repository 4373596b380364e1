"""SageMaker's built-in algorithms: one package or module per algorithm, a shared hyperparameter framework.

``registry`` maps a TrainingImage URI or a name to an algorithm; ``base`` is the contract each
one implements; ``hyperparameters`` declares and validates their hyperparameters.
"""
