"""Platform adapters: each translates between one platform and the kernel's message types."""
