from django.urls import path

from cases.views import lists, supervision

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
]
