"""Pages about who belongs to an organisation: the administrators' members page (roles, invitations, new
accounts, deactivation and password resets, the two-factor requirement, the API tokens acting here), and each
person's own invitations, which they accept or decline whether or not they belong anywhere."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import accounts, services
from .exceptions import Refused
from .forms import AccountForm, InvitationForm, MemberRoleForm, TwoFactorPolicyForm
from .models import ApiToken, Invitation, Membership
from .roles import Role, Scope
from .views_base import MemberView


class MembersView(MemberView, View):
    """Organisation settings for its administrators: members and roles, pending invitations, new accounts, and
    the API tokens acting in the organisation, to revoke a lost one."""

    required_scope = Scope.ORG_MANAGE

    def get(self, request, *, status=200, **forms):
        organisation = self.membership.organisation
        enrolled = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
        context = {
            "members": organisation.memberships.select_related("user")
            .annotate(two_factor=Exists(enrolled))
            .order_by("user__username"),
            "two_factor_form": TwoFactorPolicyForm(initial={"required": organisation.two_factor_required}),
            "invitations": organisation.invitations.pending().select_related("invited_by"),
            "tokens": ApiToken.objects.for_member(self.membership).select_related("user").order_by("user__username"),
            "form": forms.get("form") or MemberRoleForm(organisation=organisation),
            "invitation_form": forms.get("invitation_form") or InvitationForm(),
            "account_form": forms.get("account_form") or AccountForm(),
        }
        return render(request, "cases/members.html", context, status=status)

    def post(self, request):
        """Change a member's role."""
        form = MemberRoleForm(request.POST, organisation=self.membership.organisation)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        member, role = form.cleaned_data["member"], form.cleaned_data["role"]
        _attempt(
            request,
            lambda: services.membership_set(
                organisation=self.membership.organisation, user=member.user, role=role, actor=request.user
            ),
            _("%(name)s is now %(role)s.") % {"name": member.user.get_username(), "role": Role(role).label.lower()},
        )
        return redirect("cases:members")


class InvitationSendView(MembersView):
    http_method_names = ["post"]

    def post(self, request):
        form = InvitationForm(request.POST)
        if not form.is_valid():
            return self.get(request, invitation_form=form, status=400)
        username = form.cleaned_data["username"]
        _attempt(
            request,
            lambda: services.invitation_send(
                organisation=self.membership.organisation,
                username=username,
                role=form.cleaned_data["role"],
                actor=request.user,
            ),
            _("Invitation to %(name)s recorded; they join once they accept it.") % {"name": username},
        )
        return redirect("cases:members")


class InvitationRevokeView(MemberView, View):
    required_scope = Scope.ORG_MANAGE

    def post(self, request, invitation_id):
        invitation = get_object_or_404(
            Invitation.objects.pending(), organisation_id=self.membership.organisation_id, public_id=invitation_id
        )
        _attempt(
            request,
            lambda: services.invitation_revoke(invitation=invitation, actor=request.user),
            _("The invitation to %(name)s is revoked.") % {"name": invitation.username},
        )
        return redirect("cases:members")


class ApiTokenRevokeView(MemberView, View):
    """Revoke a token from the members page (administrators; members revoke their own through the API)."""

    required_scope = Scope.ORG_MANAGE

    def post(self, request, token_id):
        token = get_object_or_404(ApiToken.objects.for_member(self.membership).select_related("user"), pk=token_id)
        services.api_token_revoke(token=token, actor=request.user)
        messages.success(
            request,
            _("Token %(name)s (%(prefix)s…) of %(holder)s is revoked.")
            % {"name": token.name, "prefix": token.prefix, "holder": token.user.username},
        )
        return redirect("cases:members")


class AccountCreateView(MembersView):
    http_method_names = ["post"]

    def post(self, request):
        form = AccountForm(request.POST)
        if not form.is_valid():
            return self.get(request, account_form=form, status=400)
        _attempt(
            request,
            lambda: services.account_create(
                organisation=self.membership.organisation, actor=request.user, **form.cleaned_data
            ),
            _("Account %(name)s created; give them their first password in person.")
            % {"name": form.cleaned_data["username"]},
        )
        return redirect("cases:members")


class MemberRemoveView(MemberView, View):
    required_scope = Scope.ORG_MANAGE

    def post(self, request, membership_id):
        membership = get_object_or_404(
            Membership.objects.select_related("user", "organisation"),
            organisation_id=self.membership.organisation_id,
            public_id=membership_id,
        )
        _attempt(
            request,
            lambda: services.membership_remove(membership=membership, actor=request.user),
            _("%(name)s was removed from %(organisation)s.")
            % {"name": membership.user.username, "organisation": membership.organisation.name},
        )
        return redirect("cases:members")


def _member(membership: Membership, membership_id) -> Membership:
    """A member of the administrator's own organisation; any other id is a 404 like a missing one."""
    return get_object_or_404(
        Membership.objects.select_related("user", "organisation"),
        organisation_id=membership.organisation_id,
        public_id=membership_id,
    )


class MemberDeactivateView(MemberView, View):
    """Deactivate (or, with `reactivate`, restore) an account that belongs only to this organisation."""

    required_scope = Scope.ORG_MANAGE
    reactivate = False

    def post(self, request, membership_id):
        member = _member(self.membership, membership_id)
        name = member.user.get_username()
        if self.reactivate:
            write, done = accounts.account_reactivate, _("%(name)s can sign in again.")
        else:
            write, done = accounts.account_deactivate, _("%(name)s can no longer sign in; their tokens stop working.")
        _attempt(request, lambda: write(membership=member, actor=request.user), done % {"name": name})
        return redirect("cases:members")


class MemberPasswordResetView(MemberView, View):
    """E-mail a member a link to choose a new password."""

    required_scope = Scope.ORG_MANAGE

    def post(self, request, membership_id):
        member = _member(self.membership, membership_id)
        _attempt(
            request,
            lambda: accounts.account_password_reset_send(
                membership=member, actor=request.user, domain=request.get_host(), use_https=request.is_secure()
            ),
            _("A password reset link was e-mailed to %(name)s.") % {"name": member.user.get_username()},
        )
        return redirect("cases:members")


class TwoFactorPolicyView(MemberView, View):
    required_scope = Scope.ORG_MANAGE

    def post(self, request):
        form = TwoFactorPolicyForm(request.POST)
        if form.is_valid():
            required = form.cleaned_data["required"]
            services.organisation_two_factor_set(
                organisation=self.membership.organisation, required=required, actor=request.user
            )
            messages.success(
                request,
                _("Members now need two-factor authentication to sign in; those without it set it up first.")
                if required
                else _("Two-factor authentication is now each member's choice."),
            )
        return redirect("cases:members")


@login_required
def invitations(request):
    """The invitations offered to the signed-in person, from any organisation."""
    offered = Invitation.objects.for_invitee(request.user).select_related("organisation", "invited_by")
    return render(request, "cases/invitations.html", {"invitations": offered})


@login_required
@require_POST
def invitation_accept(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.for_invitee(request.user), public_id=invitation_id)
    _attempt(
        request,
        lambda: services.invitation_accept(invitation=invitation, actor=request.user),
        _("You are now a member of %(organisation)s; switch to it in the header to work there.")
        % {"organisation": invitation.organisation.name},
    )
    return redirect("cases:invitations")


@login_required
@require_POST
def invitation_decline(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.for_invitee(request.user), public_id=invitation_id)
    _attempt(
        request,
        lambda: services.invitation_decline(invitation=invitation, actor=request.user),
        _("You declined the invitation from %(organisation)s.") % {"organisation": invitation.organisation.name},
    )
    return redirect("cases:invitations")


def _attempt(request, write, success: str) -> None:
    """Run a service call; its refusal becomes the page's error message, its success `success`."""
    try:
        write()
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, success)
