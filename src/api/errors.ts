/** The one error shape of every API answer: {"error": {"status", "code", "message", …}}. */

export type ErrorCode =
  | "bad_parameter"
  | "too_many_points"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "uri_too_long"
  | "not_ready"
  | "no_data"
  | "timeout"
  | "internal";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body() {
    return {
      error: { status: this.status, code: this.code, message: this.message, ...this.extra },
    };
  }
}

/** JSON Schema of the error body, for the OpenAPI document. */
export const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["status", "code", "message"],
      properties: {
        status: { type: "integer", description: "The HTTP status, repeated." },
        code: {
          type: "string",
          description: "Stable machine-readable reason.",
          enum: [
            "bad_parameter",
            "too_many_points",
            "unauthorized",
            "not_found",
            "method_not_allowed",
            "uri_too_long",
            "not_ready",
            "no_data",
            "timeout",
            "internal",
          ],
        },
        message: { type: "string", description: "What was wrong and how to fix it, for people." },
        parameter: { type: "string", description: "The query parameter at fault, when one is." },
      },
    },
  },
} as const;
