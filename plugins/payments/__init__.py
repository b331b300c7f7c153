"""Payments (回款): payment plans, payments, pre-receipts, receivables and ageing."""
