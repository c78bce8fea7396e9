"""Fine-tuning Bedrock models from labeled data: validation, the labeled-data trigger and the
fine-tune workflow."""
