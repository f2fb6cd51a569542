# One image for every role of every service: the compose file picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY libs ./libs
COPY services ./services
COPY gateway ./gateway
ENV PYTHONPATH=/app/libs/contracts/src:/app/libs/messaging/src:/app/libs/servicekit/src:/app/libs/govcodes/src:/app/libs/workcalendar/src:/app/services/catalog/src:/app/services/intake/src:/app/services/backoffice/src:/app/services/notify/src:/app/services/datashare/src:/app/gateway/src
USER nobody
