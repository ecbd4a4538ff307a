"""The local stack (make dev): moto as the database, template.yaml as the routing table, the real
handlers as the functions. Development tooling only; nothing here is deployed."""
