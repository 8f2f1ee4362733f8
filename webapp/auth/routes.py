from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp.auth import bp
from webapp.auth.accounts import authenticate, issue_token, revoke_token
from webapp.auth.forms import LoginForm, PasswordForm
from webapp.auth.models import ApiToken
from webapp.auth.throttle import account_locked, count_failure, login_attempt_allowed
from webapp.callbacks.signing import renew_secret, secret_of
from webapp.errors import UserError
from webapp.extensions import db
from webapp.i18n import LANGUAGES
from webapp.security import public
from webapp.timeline.models import TimelineEntry
from webapp.timeline.record import newest_first, record


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send users anywhere.

    Browsers read a backslash as a slash, so `/\\host` is refused like `//host`.
    """
    if target and target.startswith("/") and "\\" not in target and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@public()
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "POST" and not login_attempt_allowed():
        abort(429, "Too many login attempts; wait a minute and try again.")
    if form.validate_on_submit():
        email = form.email.data or ""
        if account_locked(email):
            abort(429, "Too many failed logins for this account; wait a minute and try again.")
        user = authenticate(email, form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        count_failure(email)
        flash(_("Wrong email or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out here and everywhere else: every session and remember cookie ends."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data or ""):
            form.current.errors = ["This is not your current password."]
        else:
            current_user.set_password(form.new.data or "")
            record("account.password", current_user)
            db.session.commit()
            # Every other session has ended with the old password; this one goes on.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed; your other sessions have ended."), "success")
            return redirect(url_for("home.index"))
    return _account_page(form)


def _account_page(
    form: PasswordForm, new_token: str | None = None, error: str = "", status: int = 200
) -> ResponseReturnValue:
    # Here, not at the top: accounts come before the work quotas count.
    from webapp.quotas.usage import usage_page

    secret = secret_of(current_user)
    db.session.commit()  # made just now: kept before it is shown
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id)
    )
    mine = newest_first().where(TimelineEntry.actor_id == current_user.id).limit(30)
    return render_template(
        "auth/password.html",
        form=form,
        tokens=list(tokens),
        new_token=new_token,
        token_error=error,
        webhook_secret=secret,
        my_changes=list(db.session.scalars(mine)),
        **usage_page(current_user),
    ), status


@bp.post("/account/callback-secret")
@login_required
def renew_webhook_secret() -> ResponseReturnValue:
    renew_secret(current_user)
    flash(_("Your callback secret has been replaced: update your receivers."), "success")
    return redirect(url_for("auth.change_password") + "#callback-secret")


@bp.post("/account/language")
@login_required
def language() -> ResponseReturnValue:
    """The language of the user's pages and emails; none: their browser's."""
    chosen = request.form.get("locale", "")
    if chosen and chosen not in LANGUAGES:
        flash(_("Choose one of the languages offered."), "error")
    else:
        current_user.locale = chosen
        record("account.settings", current_user, details={"language": chosen or "browser"})
        db.session.commit()
        flash(_("Your language has been saved."), "success")
    return redirect(url_for("auth.change_password"))


@bp.post("/account/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    """A personal API token, shown on this page once: never put in a flash (the session
    cookie is signed, not encrypted)."""
    try:
        token = issue_token(current_user, request.form.get("name", ""))
    except UserError as exc:
        return _account_page(PasswordForm(formdata=None), error=str(exc), status=400)
    return _account_page(PasswordForm(formdata=None), new_token=token, status=201)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    try:
        revoke_token(current_user, token_id)
    except UserError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The token was revoked: it no longer opens the API."), "success")
    return redirect(url_for("auth.change_password"))
