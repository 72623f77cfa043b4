from django.urls import path

from cases.views import case, lists, log, supervision, wrapup

app_name = "cases"

urlpatterns = [
    # Lists and search (cases.views.lists).
    path("cases/", lists.case_list, name="case_list"),
    # Supervision of caseloads, approvals, break glass (cases.views.supervision).
    path("cases/supervision/", supervision.supervision, name="supervision"),
    path("cases/<int:case_id>/close/", supervision.close_request, name="case_close_request"),
    path("cases/<int:case_id>/reassign/", supervision.reassign, name="case_reassign"),
    path("cases/approvals/<uuid:approval_id>/decide/", supervision.decide, name="approval_decide"),
    path("cases/break-glass/", supervision.break_glass, name="break_glass"),
    # The wrap-up pane in the console (cases.views.wrapup).
    path("cases/wrapup/<uuid:contact_id>/", wrapup.wrapup_save, name="wrapup_save"),
    path("cases/wrapup/<uuid:contact_id>/finish/", wrapup.wrapup_finish, name="wrapup_finish"),
    path("cases/wrapup/<uuid:contact_id>/case/", wrapup.wrapup_case_open, name="wrapup_case_open"),
    path("cases/wrapup/<uuid:contact_id>/link/", wrapup.wrapup_case_link, name="wrapup_case_link"),
    # Contacts logged by hand (cases.views.log).
    path("cases/log/", log.contact_log_page, name="contact_log"),
    # The case page (cases.views.case).
    path("cases/<int:case_id>/", case.case_detail, name="case_detail"),
    path("cases/<int:case_id>/print/", case.case_print, name="case_print"),
    path("cases/<int:case_id>/people/", case.case_person, name="case_person_add"),
    path("cases/<int:case_id>/people/<uuid:person_id>/", case.case_person_edit, name="case_person_edit"),
    path("cases/<int:case_id>/people/<uuid:person_id>/remove/", case.case_person_removal, name="case_person_remove"),
    path("cases/<int:case_id>/notes/", case.case_note, name="case_note_add"),
    path("cases/<int:case_id>/facts/", case.case_facts_edit, name="case_facts"),
    path("cases/<int:case_id>/status/", case.case_status, name="case_status"),
    path("cases/<int:case_id>/flags/", case.case_flag, name="case_flag_raise"),
    path("cases/<int:case_id>/flags/<uuid:flag_id>/remove/", case.case_flag_removal, name="case_flag_remove"),
]
