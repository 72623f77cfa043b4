"""Every write path of the helpline app, one module per subject; views, consumers, tasks and commands call these.

- ``inbound``: a message reaches the line (any channel), contacts open, the block list is consulted;
- ``outbound``: replies and automatic messages, their delivery (an outbox) and status;
- ``queue``: presence, accepting, assigning, transferring, ending and closing conversations, risk flags, drafts;
- ``surveys``: the post-contact survey;
- ``twofactor``: enrolment, verification, backup codes, resets;
- ``staff``, ``lines``: accounts and line configuration;
- ``keys``: destroying data keys and rotating KEKs, audited.
"""
