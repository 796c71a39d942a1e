"""The clerks' review page over the published Klärungsliste; decisions go to ``ledger.journal``.

Public: :func:`create_app`, :func:`load_review_config`, :func:`load_users`, :func:`hash_password`.
"""

from review.app import create_app
from review.config import ReviewConfig, load_review_config
from review.users import User, hash_password, load_users

__all__ = ["ReviewConfig", "User", "create_app", "hash_password", "load_review_config", "load_users"]
