"""The referrals app's pages: the authority inbox, a case's referral plan, supervisors' attention list,
the resource list (search and signposting). Thin: parse, call a selector or a service, render."""
