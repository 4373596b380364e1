"""The model server: a process serving SageMaker's /ping and /invocations contract for one instance."""
