class ServiceError(Exception):
    """A refusal or failure worded for the person at the keyboard."""


class SignInError(ServiceError):
    pass


class AccessDenied(ServiceError):
    pass
