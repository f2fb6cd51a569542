-- One database and one role per service: no service can read another's tables.
CREATE ROLE catalog LOGIN PASSWORD 'catalog';
CREATE DATABASE catalog OWNER catalog;
CREATE ROLE intake LOGIN PASSWORD 'intake';
CREATE DATABASE intake OWNER intake;
CREATE ROLE backoffice LOGIN PASSWORD 'backoffice';
CREATE DATABASE backoffice OWNER backoffice;
CREATE ROLE notify LOGIN PASSWORD 'notify';
CREATE DATABASE notify OWNER notify;
CREATE ROLE datashare LOGIN PASSWORD 'datashare';
CREATE DATABASE datashare OWNER datashare;
