"""File transfer between a representative and a customer's allowed folder."""
