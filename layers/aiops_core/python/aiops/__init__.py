"""The AIOps control plane's shared package: policy, domain logic and AWS adapters.

Domain modules (everything outside ``aiops.adapters``) never import boto3; AWS sits behind the
adapters, which take an injectable client created lazily.
"""
