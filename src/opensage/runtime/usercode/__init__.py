"""Running users' code as SageMaker's containers do: /opt/ml, SM_* variables, requirements.txt."""
