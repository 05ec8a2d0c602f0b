"""The managers' live dashboard on the web process: figures from the same definitions as the
digests, pushed to the browser as they change, behind a sign-in for managers and admins."""
