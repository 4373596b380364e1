"""What runs inside a job host: the SageMaker container contract, on local directories."""
