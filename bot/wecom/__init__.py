"""WeCom (企业微信) self-built app: the callback URL, the API client, the outbox channel."""
