"""django-allauth's texts that our driver pages and e-mails show, kept in OUR German catalogue.

allauth's own German (allauth/locale/de) addresses the reader informally ("Du hast noch kein Konto bei uns?"),
while the portal says "Sie". Our catalogue (LOCALE_PATHS) is consulted before any app's, so each msgid listed
here, with its formal translation in locale/de/LC_MESSAGES/django.po, replaces allauth's. gettext_noop only
marks them, so that `makemessages` keeps them in the catalogue; nothing imports this module at run time.

The msgids must be allauth's exactly (whitespace and line breaks included): tests/portal/test_german_allauth.py
checks them against the installed allauth, and that the German sign-in, sign-up and password pages are formal.
To find new ones after an allauth upgrade: render the pages with Accept-Language: de and grep allauth's
locale/de/LC_MESSAGES/django.po for du|dein|dich|dir.
"""

from django.utils.translation import gettext_noop

ALLAUTH_TEXTS = (
    # Form errors and adapter messages (sign-in, sign-up, password and e-mail forms)
    gettext_noop("You cannot remove your primary email address."),
    gettext_noop("Please type your current password."),
    gettext_noop("You cannot add more than %d email addresses."),
    gettext_noop("Too many failed login attempts. Try again later."),
    gettext_noop("Your primary email address must be verified."),
    gettext_noop("Username can not be used. Please use other username."),
    gettext_noop("Please select only one."),
    gettext_noop("Be patient, you are sending too many requests."),
    gettext_noop("You must type the same password each time."),
    gettext_noop("You must type the same email each time."),
    # Sign-in, sign-up, sign-out, password reset and change, e-mail management and verification pages, and the
    # e-mails allauth sends (subjects and bodies)
    gettext_noop("Do you really want to remove the selected email address?"),
    gettext_noop(
        "You are receiving this email because you or someone else tried to signup for an\naccount using "
        "email address:\n\n%(email)s\n\nHowever, an account using that email address already exists.  In "
        "case you have\nforgotten about this, please use the password forgotten procedure to recover\nyour "
        "account:\n\n%(password_reset_url)s"
    ),
    gettext_noop("Thank you for using %(site_name)s!\n%(site_domain)s"),
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Your password has been changed."),
    gettext_noop(
        "You're receiving this email because you or someone else has requested a password reset for your "
        "user account.\nIt can be safely ignored if you did not request a password reset. Click the link "
        "below to reset your password."
    ),
    gettext_noop("In case you forgot, your username is %(username)s."),
    gettext_noop("Your email address is still pending verification."),
    gettext_noop(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user '
        "%(user_display)s."
    ),
    gettext_noop(
        'This email confirmation link expired or is invalid. Please <a href="%(email_url)s">issue a new '
        "email confirmation request</a>."
    ),
    gettext_noop("If you have not created an account yet, then please %(link)ssign up%(end_link)s first."),
    gettext_noop("Are you sure you want to sign out?"),
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("You have signed out."),
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we'll send you an email allowing you "
        "to reset it."
    ),
    gettext_noop("Please contact us if you have any trouble resetting your password."),
    gettext_noop(
        "We have sent you an email. If you have not received it please check your spam folder. Otherwise "
        "contact us if you do not receive it in a few minutes."
    ),
    gettext_noop(
        "The password reset link was invalid, possibly because it has already been used.  Please request a "
        '<a href="%(passwd_reset_url)s">new password reset</a>.'
    ),
    gettext_noop("Your password is now changed."),
    gettext_noop("Your phone number is still pending verification."),
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
    gettext_noop("You are already logged in as %(user_display)s."),
    gettext_noop(
        "You currently do not have any email address set up. You should really add an email address so you "
        "can receive notifications, reset your password, etc."
    ),
    gettext_noop("Verify Your Email Address"),
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize the signup "
        "process. If you do not see the verification email in your main inbox, check your spam folder. "
        "Please contact us if you do not receive the verification email within a few minutes."
    ),
    gettext_noop(
        "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, "
        "we require that you\nverify ownership of your email address. "
    ),
    gettext_noop(
        "We have sent an email to you for\nverification. Please click on the link inside that email. If you "
        "do not see the verification email in your main inbox, check your spam folder. Otherwise\ncontact "
        "us if you do not receive it within a few minutes."
    ),
    gettext_noop('<strong>Note:</strong> you can still <a href="%(email_url)s">change your email address</a>.'),
    # Formal already, but wrong or inconsistent in allauth's German on the same pages
    gettext_noop("The new value must be different from the current one."),
    gettext_noop("Enter Password Reset Code"),
    gettext_noop("Your password reset code is listed below. Please enter it in your open browser window."),
    gettext_noop("Password Reset Code"),
    gettext_noop("Your email verification code is listed below. Please enter it in your open browser window."),
    gettext_noop("Email Address"),
    gettext_noop("Change Email"),
)
