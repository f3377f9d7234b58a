# One image for every service and the relay; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY config.yml ./
RUN pip install --no-cache-dir .
ENV PYTHONWARNINGS="ignore:::nameko.cli.commands,ignore:::nameko.containers"
