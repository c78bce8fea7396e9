"""Fine-tuning Bedrock models from labeled data: validation, the labeled-data trigger, the fine-tune workflow."""
