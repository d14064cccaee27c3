// Test top for the binary32 units: op 0 multiplies, 1 adds, 2 converts a (a signed integer) to float, 3 is e^a, 4 divides.
`default_nettype none
module fp32_ops_top (
    input  wire [2:0] op,
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] y
);
    wire [31:0] product, sum, converted, exponential, quotient;
    fp32_mul u_mul (.a(a), .b(b), .y(product));
    fp32_add u_add (.a(a), .b(b), .y(sum));
    int_to_fp32 u_cvt (.a(a), .y(converted));
    fp32_exp u_exp (.a(a), .y(exponential));
    fp32_div u_div (.a(a), .b(b), .y(quotient));
    assign y = op == 3'd0 ? product : op == 3'd1 ? sum : op == 3'd2 ? converted : op == 3'd3 ? exponential : quotient;
endmodule
`default_nettype wire
