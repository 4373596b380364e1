"""KMS keys and aliases: symmetric keys whose material is sealed under the home's master key."""
